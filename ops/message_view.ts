/**
 * A stored message as the admin tools show it: ids, topic, queue, keys, tags, times, hosts,
 * properties and the body as text (or base64 when it is not UTF-8), inflated when compressed.
 *
 * @module
 */

import { inflateSync } from "node:zlib";
import {
  createOffsetMessageId,
  formatSocketAddress,
  type MessageRecord,
  MessageSysFlag,
  parseProperties,
} from "../protocol/message.ts";

/** A message for display. */
export interface MessageView {
  /** The client id (UNIQ_KEY), or the offsetMsgId when the message has none. */
  msgId: string;
  /** Store host and commit-log offset in hex: where VIEW_MESSAGE_BY_ID finds it. */
  offsetMsgId: string;
  topic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  tags: string;
  keys: string;
  bornTimestamp: number;
  storeTimestamp: number;
  bornHost: string;
  storeHost: string;
  reconsumeTimes: number;
  sysFlag: number;
  flag: number;
  properties: Record<string, string>;
  /** Body bytes (after inflating). */
  bodySize: number;
  /** The body, cut at `bodyBytesMax`. */
  body: string;
  bodyEncoding: "utf8" | "base64";
  bodyTruncated: boolean;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

function bodyOf(record: MessageRecord): Uint8Array {
  if ((record.sysFlag & MessageSysFlag.COMPRESSED) === 0) return record.body;
  try {
    return new Uint8Array(inflateSync(record.body));
  } catch {
    return record.body; // shown as stored: a body that does not inflate is still worth seeing
  }
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Builds the view of a decoded record; `bodyBytesMax` bounds the body carried. */
export function messageView(record: MessageRecord, brokerName: string, bodyBytesMax: number): MessageView {
  const properties = Object.fromEntries(parseProperties(record.properties));
  const offsetMsgId = createOffsetMessageId(record.storeHost, record.commitLogOffset);
  const full = bodyOf(record);
  const cut = full.length > bodyBytesMax ? full.subarray(0, bodyBytesMax) : full;
  let body: string;
  let bodyEncoding: "utf8" | "base64" = "utf8";
  try {
    body = strictDecoder.decode(cut);
  } catch {
    // A cut can split a character; a body that is text up to the cut still reads as text.
    try {
      body = strictDecoder.decode(cut.subarray(0, Math.max(0, cut.length - 3)));
      if (full.length <= bodyBytesMax) throw new TypeError("not UTF-8");
    } catch {
      body = encodeBase64(cut);
      bodyEncoding = "base64";
    }
  }
  return {
    msgId: properties.UNIQ_KEY ?? offsetMsgId,
    offsetMsgId,
    topic: record.topic,
    brokerName,
    queueId: record.queueId,
    queueOffset: record.queueOffset,
    commitLogOffset: record.commitLogOffset,
    tags: properties.TAGS ?? "",
    keys: properties.KEYS ?? "",
    bornTimestamp: record.bornTimestamp,
    storeTimestamp: record.storeTimestamp,
    bornHost: formatSocketAddress(record.bornHost),
    storeHost: formatSocketAddress(record.storeHost),
    reconsumeTimes: record.reconsumeTimes,
    sysFlag: record.sysFlag,
    flag: record.flag,
    properties,
    bodySize: full.length,
    body,
    bodyEncoding,
    bodyTruncated: full.length > bodyBytesMax,
  };
}
