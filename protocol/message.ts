/**
 * The RocketMQ 4.x message record: the layout of the commit log, and of PULL_MESSAGE,
 * QUERY_MESSAGE and VIEW_MESSAGE_BY_ID bodies, so stored bytes are served as they are.
 *
 * ```text
 *  off  size  field (offsets for IPv4 hosts; an IPv6 host takes 20 bytes instead of 8)
 *    0     4  TOTALSIZE                 whole record, this field included
 *    4     4  MAGICCODE                 0xDAA320A7 (a BLANK 0xCBD43194 pads a segment's end)
 *    8     4  BODYCRC                   crc32(body as stored) & 0x7FFFFFFF
 *   12     4  QUEUEID
 *   16     4  FLAG                      user flag, stored verbatim
 *   20     8  QUEUEOFFSET               consume-queue index
 *   28     8  PHYSICALOFFSET            commit-log offset of this record
 *   36     4  SYSFLAG
 *   40     8  BORNTIMESTAMP             ms
 *   48   8|20 BORNHOST                  ip (4|16) + port (i32); IPv6 when sysFlag & 0x10
 *   56     8  STORETIMESTAMP            ms
 *   64   8|20 STOREHOST                 IPv6 when sysFlag & 0x20
 *   72     4  RECONSUMETIMES
 *   76     8  PREPAREDTRANSACTIONOFFSET
 *   84  4+n   BODYLEN + BODY            zlib-compressed when sysFlag & 0x1
 *    .  1+n   TOPICLEN (i8) + TOPIC     UTF-8
 *    .  2+n   PROPERTIESLEN (i16) + PROPERTIES
 * ```
 *
 * Fixed overhead with IPv4 hosts is {@linkcode RECORD_OVERHEAD_BYTES} (91). Batch bodies
 * (SEND_BATCH_MESSAGE) use a shorter per-message layout, documented at {@linkcode decodeBatchBody}.
 *
 * Pure: imports only other pure protocol files.
 *
 * @module
 */

import { crc32Masked } from "./crc32.ts";
import { ProtocolError } from "./errors.ts";
import { propertiesBytesMax, topicBytesMax } from "./limits.ts";

/** MAGICCODE of a 4.x message record. */
export const MESSAGE_MAGIC_CODE = 0xDAA320A7 | 0;
/** MAGICCODE of the blank record that pads the end of a commit-log segment. */
export const BLANK_MAGIC_CODE = 0xCBD43194 | 0;
/** Bytes of a record's fixed fields with IPv4 hosts. */
export const RECORD_OVERHEAD_BYTES = 91;

/** Byte positions of the fixed fields that do not depend on host sizes. */
export const RecordField = {
  TOTAL_SIZE: 0,
  MAGIC_CODE: 4,
  BODY_CRC: 8,
  QUEUE_ID: 12,
  FLAG: 16,
  QUEUE_OFFSET: 20,
  PHYSICAL_OFFSET: 28,
  SYS_FLAG: 36,
  BORN_TIMESTAMP: 40,
  BORN_HOST: 48,
} as const;

/** `MessageSysFlag.java` bits. */
export const MessageSysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_NOT_TYPE: 0,
  TRANSACTION_PREPARED_TYPE: 0x4,
  TRANSACTION_COMMIT_TYPE: 0x8,
  TRANSACTION_ROLLBACK_TYPE: 0xC,
  TRANSACTION_MASK: 0xC,
  BORNHOST_V6: 0x10,
  STOREHOST_V6: 0x20,
  NEED_UNWRAP: 0x40,
  INNER_BATCH: 0x80,
  COMPRESSION_TYPE_MASK: 0x700,
  COMPRESSION_LZ4: 0x100,
  COMPRESSION_ZSTD: 0x200,
  COMPRESSION_ZLIB: 0x300,
} as const;

/** Well-known message property names (`MessageConst.java`). */
export const MessageProperty = {
  KEYS: "KEYS",
  TAGS: "TAGS",
  WAIT: "WAIT",
  DELAY: "DELAY",
  RETRY_TOPIC: "RETRY_TOPIC",
  REAL_TOPIC: "REAL_TOPIC",
  REAL_QID: "REAL_QID",
  TRAN_MSG: "TRAN_MSG",
  PGROUP: "PGROUP",
  MIN_OFFSET: "MIN_OFFSET",
  MAX_OFFSET: "MAX_OFFSET",
  BUYER_ID: "BUYER_ID",
  ORIGIN_MESSAGE_ID: "ORIGIN_MESSAGE_ID",
  TRANSFER_FLAG: "TRANSFER_FLAG",
  CORRECTION_FLAG: "CORRECTION_FLAG",
  MQ2_FLAG: "MQ2_FLAG",
  RECONSUME_TIME: "RECONSUME_TIME",
  MSG_REGION: "MSG_REGION",
  TRACE_SWITCH: "TRACE_ON",
  UNIQ_CLIENT_MESSAGE_ID_KEYIDX: "UNIQ_KEY",
  MAX_RECONSUME_TIMES: "MAX_RECONSUME_TIMES",
  CONSUME_START_TIMESTAMP: "CONSUME_START_TIME",
  TRAN_PREPARED_QUEUE_OFFSET: "TRAN_PREPARED_QUEUE_OFFSET",
  TRANSACTION_CHECK_TIMES: "TRANSACTION_CHECK_TIMES",
  CHECK_IMMUNITY_TIME_IN_SECONDS: "CHECK_IMMUNITY_TIME_IN_SECONDS",
  INSTANCE_ID: "INSTANCE_ID",
  CORRELATION_ID: "CORRELATION_ID",
  MESSAGE_REPLY_TO_CLIENT: "REPLY_TO_CLIENT",
  MESSAGE_TTL: "TTL",
  REPLY_MESSAGE_ARRIVE_TIME: "ARRIVE_TIME",
  PUSH_REPLY_TIME: "PUSH_REPLY_TIME",
  CLUSTER: "CLUSTER",
  MESSAGE_TYPE: "MSG_TYPE",
  SHARDING_KEY: "__SHARDINGKEY",
} as const;

/** Separates a property's name from its value. */
export const NAME_VALUE_SEPARATOR = "\u0001";
/** Separates properties. */
export const PROPERTY_SEPARATOR = "\u0002";
/** Separates keys inside the KEYS property. */
export const KEY_SEPARATOR = " ";

/** A host and port as stored: 4 (IPv4) or 16 (IPv6) address bytes. */
export interface SocketAddress {
  ip: Uint8Array;
  port: number;
}

/** One decoded message record. */
export interface MessageRecord {
  queueId: number;
  flag: number;
  queueOffset: number;
  commitLogOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: SocketAddress;
  storeTimestamp: number;
  storeHost: SocketAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Uint8Array;
  topic: string;
  /** The raw properties string; see {@linkcode parseProperties}. */
  properties: string;
  /** BODYCRC as stored (decoding only). */
  bodyCrc?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function hostBytes(address: SocketAddress): number {
  return address.ip.length + 4;
}

/** sysFlag with the host-kind bits set from the addresses' sizes. */
export function withHostFlags(sysFlag: number, bornHost: SocketAddress, storeHost: SocketAddress): number {
  let flag = sysFlag & ~(MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6);
  if (bornHost.ip.length === 16) flag |= MessageSysFlag.BORNHOST_V6;
  if (storeHost.ip.length === 16) flag |= MessageSysFlag.STOREHOST_V6;
  return flag;
}

/** Bytes of a record with these parts. */
export function messageRecordSize(
  bodyBytes: number,
  topicBytes: number,
  propertiesBytes: number,
  bornHostBytes = 8,
  storeHostBytes = 8,
): number {
  return RECORD_OVERHEAD_BYTES - 16 + bornHostBytes + storeHostBytes + bodyBytes + topicBytes + propertiesBytes;
}

/** Offset of STORETIMESTAMP in a record with this sysFlag. */
export function storeTimestampPosition(sysFlag: number): number {
  return RecordField.BORN_HOST + ((sysFlag & MessageSysFlag.BORNHOST_V6) ? 20 : 8);
}

/** Parts of a record that callers may have encoded once already. */
export interface EncodedParts {
  topicBytes?: Uint8Array;
  propertiesBytes?: Uint8Array;
  /** BODYCRC if already computed (e.g. with a native CRC). */
  bodyCrc?: number;
}

/**
 * Writes `record` at `pos` of `target` and returns its size. The host-kind sysFlag bits are set
 * from the addresses.
 *
 * @throws {RangeError} when the topic, properties or target are too small for the layout.
 */
export function writeMessageRecord(
  target: Uint8Array,
  pos: number,
  record: MessageRecord,
  parts: EncodedParts = {},
): number {
  const topic = parts.topicBytes ?? encoder.encode(record.topic);
  const properties = parts.propertiesBytes ?? encoder.encode(record.properties);
  if (topic.length > topicBytesMax) {
    throw new RangeError(`Cannot encode message: topic is ${topic.length} bytes, limit is ${topicBytesMax} bytes`);
  }
  if (properties.length > propertiesBytesMax) {
    throw new RangeError(
      `Cannot encode message: properties are ${properties.length} bytes, limit is ${propertiesBytesMax} bytes`,
    );
  }
  const size = messageRecordSize(
    record.body.length,
    topic.length,
    properties.length,
    hostBytes(record.bornHost),
    hostBytes(record.storeHost),
  );
  if (pos + size > target.length) {
    throw new RangeError(`Cannot encode message: ${size} bytes do not fit at ${pos} of ${target.length}`);
  }
  const view = new DataView(target.buffer, target.byteOffset + pos, size);
  const sysFlag = withHostFlags(record.sysFlag, record.bornHost, record.storeHost);
  view.setInt32(0, size);
  view.setInt32(4, MESSAGE_MAGIC_CODE);
  view.setInt32(8, parts.bodyCrc ?? crc32Masked(record.body));
  view.setInt32(12, record.queueId);
  view.setInt32(16, record.flag);
  view.setBigInt64(20, BigInt(record.queueOffset));
  view.setBigInt64(28, BigInt(record.commitLogOffset));
  view.setInt32(36, sysFlag);
  view.setBigInt64(40, BigInt(record.bornTimestamp));
  let p = 48;
  p = writeAddress(target, view, pos, p, record.bornHost);
  view.setBigInt64(p, BigInt(record.storeTimestamp));
  p += 8;
  p = writeAddress(target, view, pos, p, record.storeHost);
  view.setInt32(p, record.reconsumeTimes);
  view.setBigInt64(p + 4, BigInt(record.preparedTransactionOffset));
  p += 12;
  view.setInt32(p, record.body.length);
  target.set(record.body, pos + p + 4);
  p += 4 + record.body.length;
  view.setInt8(p, topic.length);
  target.set(topic, pos + p + 1);
  p += 1 + topic.length;
  view.setInt16(p, properties.length);
  target.set(properties, pos + p + 2);
  return size;
}

function writeAddress(target: Uint8Array, view: DataView, base: number, p: number, address: SocketAddress): number {
  target.set(address.ip, base + p);
  view.setInt32(p + address.ip.length, address.port);
  return p + address.ip.length + 4;
}

/** Encodes `record` into a new buffer. */
export function encodeMessageRecord(record: MessageRecord, parts: EncodedParts = {}): Uint8Array {
  const topic = parts.topicBytes ?? encoder.encode(record.topic);
  const properties = parts.propertiesBytes ?? encoder.encode(record.properties);
  const size = messageRecordSize(
    record.body.length,
    topic.length,
    properties.length,
    hostBytes(record.bornHost),
    hostBytes(record.storeHost),
  );
  const out = new Uint8Array(size);
  writeMessageRecord(out, 0, record, { ...parts, topicBytes: topic, propertiesBytes: properties });
  return out;
}

/** Options for {@linkcode decodeMessageRecord}. */
export interface DecodeRecordOptions {
  /** Recompute the body CRC and reject a mismatch. */
  verifyCrc?: boolean;
  /** Copy the body out of the input (default: a view into it). */
  copyBody?: boolean;
}

/**
 * Decodes the record at `pos` of `bytes`. `view` (a DataView over all of `bytes`) may be passed
 * by callers decoding many records of one buffer. Topic, host addresses and body are views of
 * `bytes` unless `copyBody` is set.
 *
 * @throws {ProtocolError} on a wrong magic code, a size that does not match the fields, a field
 * running past the record, or (with `verifyCrc`) a body CRC mismatch.
 */
export function decodeMessageRecord(
  bytes: Uint8Array,
  pos = 0,
  options: DecodeRecordOptions = {},
  view: DataView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
): MessageRecord & { size: number } {
  if (bytes.length - pos < RECORD_OVERHEAD_BYTES) {
    throw new ProtocolError(
      `Cannot decode message at ${pos}: ${
        bytes.length - pos
      } bytes left, a record needs at least ${RECORD_OVERHEAD_BYTES}`,
    );
  }
  const size = view.getInt32(pos);
  const magic = view.getInt32(pos + 4);
  if (magic !== MESSAGE_MAGIC_CODE) {
    throw new ProtocolError(
      `Cannot decode message at ${pos}: magic code 0x${(magic >>> 0).toString(16)} is not a message`,
    );
  }
  if (size < RECORD_OVERHEAD_BYTES || size > bytes.length - pos) {
    throw new ProtocolError(
      `Cannot decode message at ${pos}: size ${size} is outside [${RECORD_OVERHEAD_BYTES}, ${bytes.length - pos}]`,
    );
  }
  const sysFlag = view.getInt32(pos + 36);
  const bornIpBytes = (sysFlag & MessageSysFlag.BORNHOST_V6) ? 16 : 4;
  const storeIpBytes = (sysFlag & MessageSysFlag.STOREHOST_V6) ? 16 : 4;
  const sizeMin = RECORD_OVERHEAD_BYTES + (bornIpBytes - 4) + (storeIpBytes - 4);
  if (size < sizeMin) {
    throw new ProtocolError(`Cannot decode message at ${pos}: size ${size} is below ${sizeMin} for its host kinds`);
  }
  // Views unless asked to copy: a typed-array allocation per field costs more than the decode.
  const copy = options.copyBody === true;
  let p = pos + 48;
  const bornHost = {
    ip: copy ? bytes.slice(p, p + bornIpBytes) : bytes.subarray(p, p + bornIpBytes),
    port: view.getInt32(p + bornIpBytes),
  };
  p += bornIpBytes + 4;
  const storeTimestamp = getI64(view, p);
  p += 8;
  const storeHost = {
    ip: copy ? bytes.slice(p, p + storeIpBytes) : bytes.subarray(p, p + storeIpBytes),
    port: view.getInt32(p + storeIpBytes),
  };
  p += storeIpBytes + 4;
  const reconsumeTimes = view.getInt32(p);
  const preparedTransactionOffset = getI64(view, p + 4);
  p += 12;
  const end = pos + size;
  const bodyLength = view.getInt32(p);
  p += 4;
  if (bodyLength < 0 || p + bodyLength + 3 > end) {
    throw new ProtocolError(
      `Cannot decode message at ${pos}: body length ${bodyLength} runs past the record of ${size}`,
    );
  }
  const body = copy ? bytes.slice(p, p + bodyLength) : bytes.subarray(p, p + bodyLength);
  p += bodyLength;
  const topicLength = bytes[p];
  p += 1;
  if (topicLength > topicBytesMax || p + topicLength + 2 > end) {
    throw new ProtocolError(`Cannot decode message at ${pos}: topic length ${topicLength} runs past the record`);
  }
  const topic = topicOf(bytes, p, topicLength);
  p += topicLength;
  const propertiesLength = view.getInt16(p);
  p += 2;
  if (propertiesLength < 0 || p + propertiesLength !== end) {
    throw new ProtocolError(
      `Cannot decode message at ${pos}: properties length ${propertiesLength} does not end at the record size ${size}`,
    );
  }
  const properties = propertiesLength === 0 ? "" : decoder.decode(bytes.subarray(p, p + propertiesLength));
  const bodyCrc = view.getInt32(pos + 8);
  if (options.verifyCrc) {
    const actual = crc32Masked(body);
    if (actual !== bodyCrc) {
      throw new ProtocolError(`Cannot decode message at ${pos}: body CRC is ${bodyCrc}, computed ${actual}`);
    }
  }
  return {
    size,
    bodyCrc,
    queueId: view.getInt32(pos + 12),
    flag: view.getInt32(pos + 16),
    queueOffset: getI64(view, pos + 20),
    commitLogOffset: getI64(view, pos + 28),
    sysFlag,
    bornTimestamp: getI64(view, pos + 40),
    bornHost,
    storeTimestamp,
    storeHost,
    reconsumeTimes,
    preparedTransactionOffset,
    body,
    topic,
    properties,
  };
}

/** A big-endian i64 as a number (rounded like `Number(BigInt)` past 2^53), without a BigInt. */
function getI64(view: DataView, at: number): number {
  return view.getInt32(at) * 4294967296 + view.getUint32(at + 4);
}

/** The last topic decoded and its bytes: the records of one pull nearly always share a topic. */
let lastTopic = "";
let lastTopicBytes = new Uint8Array(0);

function topicOf(bytes: Uint8Array, at: number, length: number): string {
  const cached = lastTopicBytes;
  if (cached.length === length) {
    let i = 0;
    while (i < length && bytes[at + i] === cached[i]) i++;
    if (i === length) return lastTopic;
  }
  lastTopicBytes = bytes.slice(at, at + length);
  lastTopic = decoder.decode(lastTopicBytes);
  return lastTopic;
}

/** Decodes back-to-back records (a PULL or QUERY body). */
export function decodeMessageRecords(bytes: Uint8Array, options: DecodeRecordOptions = {}): MessageRecord[] {
  const records: MessageRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos < bytes.length) {
    const record = decodeMessageRecord(bytes, pos, options, view);
    records.push(record);
    pos += record.size;
  }
  return records;
}

/**
 * Parses a properties string the way Java's `MessageDecoder.string2messageProperties` does:
 * split on char 2; a piece counts only if it is at least 3 chars long and has char 1 neither
 * first nor last.
 */
export function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  const length = text.length;
  let index = 0;
  while (index < length) {
    let end = text.indexOf(PROPERTY_SEPARATOR, index);
    if (end < 0) end = length;
    if (end - index >= 3) {
      const separator = text.indexOf(NAME_VALUE_SEPARATOR, index);
      if (separator > index && separator < end - 1) {
        map.set(text.slice(index, separator), text.slice(separator + 1, end));
      }
    }
    index = end + 1;
  }
  return map;
}

/**
 * {@linkcode parseProperties} into a plain object (what a received message exposes), without the
 * intermediate Map.
 */
export function parsePropertiesObject(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const length = text.length;
  let index = 0;
  while (index < length) {
    let end = text.indexOf(PROPERTY_SEPARATOR, index);
    if (end < 0) end = length;
    if (end - index >= 3) {
      const separator = text.indexOf(NAME_VALUE_SEPARATOR, index);
      if (separator > index && separator < end - 1) {
        const name = text.slice(index, separator);
        const value = text.slice(separator + 1, end);
        // An own property even for "__proto__", as Object.fromEntries would make it.
        if (name === "__proto__") {
          Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
        } else out[name] = value;
      }
    }
    index = end + 1;
  }
  return out;
}

/** Writes properties as `name\u0001value\u0002…` without a trailing separator; nullish values are skipped. */
export function encodeProperties(
  properties: Map<string, string> | Record<string, string | undefined | null>,
): string {
  const entries = properties instanceof Map ? properties.entries() : Object.entries(properties);
  let out = "";
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue;
    if (out.length > 0) out += PROPERTY_SEPARATOR;
    out += name + NAME_VALUE_SEPARATOR + value;
  }
  return out;
}

/** Java `String.hashCode()`: 31-based over UTF-16 code units with 32-bit wraparound. */
export function javaStringHashCode(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/** The consume-queue tags code of a message: `hashCode(tags)`, 0 when there are none. */
export function tagsHashCode(tags: string | undefined): number {
  return tags ? javaStringHashCode(tags) : 0;
}

/** Upper-case hex of `bytes`. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, "0"));

/**
 * Parses hex (either case) to bytes.
 *
 * @throws {ProtocolError} when the text is not an even number of hex digits.
 */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ProtocolError(`Cannot parse hex "${hex}": expected an even number of hex digits`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * The broker-side message id ("offsetMsgId"): upper-case hex of store IP + port (i32) +
 * commit-log offset (i64). 32 characters for IPv4, 56 for IPv6.
 */
export function createOffsetMessageId(storeHost: SocketAddress, commitLogOffset: number): string {
  const out = new Uint8Array(storeHost.ip.length + 12);
  out.set(storeHost.ip, 0);
  const view = new DataView(out.buffer);
  view.setInt32(storeHost.ip.length, storeHost.port);
  view.setBigInt64(storeHost.ip.length + 4, BigInt(commitLogOffset));
  return bytesToHex(out);
}

/**
 * Decodes an offsetMsgId into its store host and commit-log offset.
 *
 * @throws {ProtocolError} when it is not 32 or 56 hex digits.
 */
export function decodeOffsetMessageId(id: string): { storeHost: SocketAddress; commitLogOffset: number } {
  if (id.length !== 32 && id.length !== 56) {
    throw new ProtocolError(`Cannot decode message id "${id}": expected 32 or 56 hex digits, got ${id.length}`);
  }
  const bytes = hexToBytes(id);
  const ipBytes = bytes.length - 12;
  const view = new DataView(bytes.buffer);
  return {
    storeHost: { ip: bytes.slice(0, ipBytes), port: view.getInt32(ipBytes) },
    commitLogOffset: Number(view.getBigInt64(ipBytes + 4)),
  };
}

/**
 * Parses `"a.b.c.d:port"` or `"[v6]:port"` (or `"v6:port"` with the last colon as separator).
 *
 * @throws {ProtocolError} on anything else.
 */
export function parseSocketAddress(text: string): SocketAddress {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) throw new ProtocolError(`Cannot parse address "${text}": expected host:port`);
  let host = text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ProtocolError(`Cannot parse address "${text}": port must be 0-65535`);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { ip: parseIp(host), port };
}

/**
 * Parses a literal IPv4 or IPv6 address to 4 or 16 bytes.
 *
 * @throws {ProtocolError} when `host` is not an IP literal.
 */
export function parseIp(host: string): Uint8Array {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const bytes = v4.slice(1).map(Number);
    if (bytes.every((b) => b <= 255)) return new Uint8Array(bytes);
  }
  if (host.includes(":")) {
    let text = host;
    let tail: number[] = [];
    const lastColon = text.lastIndexOf(":");
    const maybeV4 = text.slice(lastColon + 1);
    if (maybeV4.includes(".")) {
      tail = [...parseIp(maybeV4)];
      text = text.slice(0, lastColon) + ":0:0";
    }
    const halves = text.split("::");
    if (halves.length <= 2) {
      const head = halves[0] ? halves[0].split(":") : [];
      const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
      const missing = 8 - head.length - rest.length;
      if ((halves.length === 2 && missing >= 0) || (halves.length === 1 && missing === 0)) {
        const groups = [...head, ...Array(missing).fill("0"), ...rest];
        if (groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) {
          const out = new Uint8Array(16);
          groups.forEach((g, i) => {
            const n = parseInt(g, 16);
            out[i * 2] = n >> 8;
            out[i * 2 + 1] = n & 0xff;
          });
          if (tail.length === 4) out.set(tail, 12);
          return out;
        }
      }
    }
  }
  throw new ProtocolError(`Cannot parse IP address "${host}": expected an IPv4 or IPv6 literal`);
}

/** Formats a socket address as `a.b.c.d:port` or `[v6]:port`. */
export function formatSocketAddress(address: SocketAddress): string {
  return address.ip.length === 4
    ? `${address.ip.join(".")}:${address.port}`
    : `[${formatIpv6(address.ip)}]:${address.port}`;
}

function formatIpv6(ip: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip[i] << 8) | ip[i + 1]).toString(16));
  return groups.join(":");
}

/** One message inside a batch body. */
export interface BatchEntry {
  flag: number;
  body: Uint8Array;
  properties: string;
}

/**
 * Decodes a SEND_BATCH_MESSAGE body: back-to-back entries of
 * `TOTALSIZE i32 | MAGICCODE i32 (0) | BODYCRC i32 (0) | FLAG i32 | BODYLEN i32 | BODY |
 * PROPERTIESLEN i16 | PROPERTIES`.
 *
 * @throws {ProtocolError} when an entry's sizes are inconsistent or run past the body, or when
 * there are more than `entriesMax` entries.
 */
export function decodeBatchBody(bytes: Uint8Array, entriesMax = 1 << 16): BatchEntry[] {
  const entries: BatchEntry[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos < bytes.length) {
    if (entries.length >= entriesMax) {
      throw new ProtocolError(`Cannot decode batch: more than ${entriesMax} messages`);
    }
    if (bytes.length - pos < 22) {
      throw new ProtocolError(`Cannot decode batch entry at ${pos}: ${bytes.length - pos} bytes left, need 22`);
    }
    const total = view.getInt32(pos);
    const flag = view.getInt32(pos + 12);
    const bodyLength = view.getInt32(pos + 16);
    if (total < 22 || total > bytes.length - pos || bodyLength < 0 || 20 + bodyLength + 2 > total) {
      throw new ProtocolError(
        `Cannot decode batch entry at ${pos}: size ${total} or body length ${bodyLength} is inconsistent`,
      );
    }
    const body = bytes.subarray(pos + 20, pos + 20 + bodyLength);
    const propertiesLength = view.getInt16(pos + 20 + bodyLength);
    if (propertiesLength < 0 || 22 + bodyLength + propertiesLength !== total) {
      throw new ProtocolError(
        `Cannot decode batch entry at ${pos}: properties length ${propertiesLength} does not end at ${total}`,
      );
    }
    const start = pos + 22 + bodyLength;
    const properties = decoder.decode(bytes.subarray(start, start + propertiesLength));
    entries.push({ flag, body, properties });
    pos += total;
  }
  return entries;
}

/** Encodes a batch body from entries (what a producer sends with SEND_BATCH_MESSAGE). */
export function encodeBatchBody(entries: BatchEntry[]): Uint8Array {
  const encoded = entries.map((e) => ({ ...e, props: encoder.encode(e.properties) }));
  const total = encoded.reduce((sum, e) => sum + 22 + e.body.length + e.props.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const e of encoded) {
    const size = 22 + e.body.length + e.props.length;
    view.setInt32(pos, size);
    view.setInt32(pos + 12, e.flag);
    view.setInt32(pos + 16, e.body.length);
    out.set(e.body, pos + 20);
    view.setInt16(pos + 20 + e.body.length, e.props.length);
    out.set(e.props, pos + 22 + e.body.length);
    pos += size;
  }
  return out;
}

/** Options for {@linkcode UniqueIdGenerator}. */
export interface UniqueIdOptions {
  /** Client IP (4 or 16 bytes); defaults to 127.0.0.1. */
  ip?: Uint8Array;
  /** Process id; only its low 16 bits are used, as in Java. */
  pid?: number;
  /** Stands in for Java's class-loader hash code: any 32-bit number unique per client instance. */
  instanceHash?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Generates client message ids (UNIQ_KEY) in Java's `MessageClientIDSetter` layout:
 * `ip (4|16) | pid i16 | instance hash i32 | ms since start of month i32 | counter i16`, upper-case
 * hex (32 characters for IPv4).
 */
export class UniqueIdGenerator {
  #fixed: string;
  #counter = 0;
  #monthStart = 0;
  #nextMonthStart = 0;
  #now: () => number;

  constructor(options: UniqueIdOptions = {}) {
    const ip = options.ip ?? new Uint8Array([127, 0, 0, 1]);
    const fixed = new Uint8Array(ip.length + 6);
    fixed.set(ip, 0);
    const view = new DataView(fixed.buffer);
    view.setInt16(ip.length, (options.pid ?? 0) & 0xffff);
    view.setInt32(ip.length + 2, options.instanceHash ?? Math.floor(Math.random() * 2 ** 31));
    this.#fixed = bytesToHex(fixed);
    this.#now = options.now ?? Date.now;
  }

  /** A new id: the fixed prefix plus 12 hex digits, one string and no buffers (it is on the send path). */
  next(): string {
    const now = this.#now();
    if (now >= this.#nextMonthStart || now < this.#monthStart) {
      const d = new Date(now);
      this.#monthStart = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
      this.#nextMonthStart = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
    }
    // Java casts to int, which wraps after ~24.8 days; readers take the bytes as unsigned.
    const delta = (now - this.#monthStart) >>> 0;
    const counter = this.#counter;
    this.#counter = (counter + 1) & 0xffff;
    return this.#fixed + HEX[delta >>> 24] + HEX[(delta >>> 16) & 0xff] + HEX[(delta >>> 8) & 0xff] +
      HEX[delta & 0xff] + HEX[counter >>> 8] + HEX[counter & 0xff];
  }
}

/**
 * The approximate creation time of a UNIQ_KEY id (Java's `getNearlyTimeFromID`): the month of
 * `now`, or the month before when that lands in the future. `undefined` for ids of another shape.
 */
export function uniqueIdTimestamp(id: string, now = Date.now()): number | undefined {
  const ipHex = id.length === 32 ? 8 : id.length === 56 ? 32 : -1;
  if (ipHex < 0 || !/^[0-9A-Fa-f]+$/.test(id)) return undefined;
  const delta = new DataView(hexToBytes(id.slice(ipHex + 12, ipHex + 20)).buffer).getUint32(0);
  const d = new Date(now);
  let time = new Date(d.getFullYear(), d.getMonth(), 1).getTime() + delta;
  if (time > now) time = new Date(d.getFullYear(), d.getMonth() - 1, 1).getTime() + delta;
  return time;
}
