/**
 * The store's hot-path record encoder and the light record scanner recovery uses.
 *
 * The layout is `protocol/message.ts`'s (RocketMQ's stored message, documented there); this file
 * writes the very same bytes as `writeMessageRecord` (a test compares them) but without per-put
 * BigInts, topic re-encoding or a JS CRC: topics are cached as bytes, properties are encoded into
 * a reused scratch buffer, the body CRC comes from native `node:zlib`, and u64 fields are written
 * as two u32 halves.
 *
 * @module
 */

import { crc32 as nativeCrc32 } from "node:zlib";
import {
  BLANK_MAGIC_CODE,
  KEY_SEPARATOR,
  MESSAGE_MAGIC_CODE,
  MessageProperty,
  messageRecordSize,
  parseProperties,
  RECORD_OVERHEAD_BYTES,
  type SocketAddress,
  tagsHashCode,
  withHostFlags,
} from "../../protocol/message.ts";
import { assert } from "./_assert.ts";

export { BLANK_MAGIC_CODE, MESSAGE_MAGIC_CODE, RECORD_OVERHEAD_BYTES };

/** Largest properties string the layout allows (signed 16-bit length). */
export const propertiesBytesMax = 32767;
/** Longest topic the layout allows (signed 8-bit length). */
export const topicBytesMax = 127;
/** Bytes of the BLANK record header that pads a segment's end: size + magic. */
export const BLANK_HEADER_BYTES = 8;

/**
 * Topics whose bytes are cached. Brokers have tens to thousands of topics; past this the cache is
 * simply cleared, so a hostile stream of topic names costs re-encoding, never memory.
 */
const topicCacheMax = 4096;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** Writes a non-negative or negative safe integer as a big-endian i64 without BigInt. */
export function setU64(view: DataView, position: number, value: number): void {
  view.setUint32(position, Math.floor(value / 4294967296));
  view.setUint32(position + 4, value >>> 0);
}

/** Reads a big-endian i64 that holds a safe integer. */
export function getU64(view: DataView, position: number): number {
  return view.getInt32(position) * 4294967296 + view.getUint32(position + 4);
}

/** Masked body CRC as RocketMQ stores it, computed natively. */
export function bodyCrc(body: Uint8Array): number {
  return nativeCrc32(body) & 0x7FFFFFFF;
}

function hex8(n: number): string {
  const s = n.toString(16).toUpperCase();
  return s.length >= 8 ? s : "00000000".slice(s.length) + s;
}
let idHost: SocketAddress | undefined;
let idHostIp: Uint8Array | undefined;
let idHostPort = -1;
let idPrefix = "";

/** offsetMsgId (hex of store ip + port + commit-log offset), same as `createOffsetMessageId`. */
export function offsetMessageId(storeHost: SocketAddress, commitLogOffset: number): string {
  if (storeHost !== idHost || storeHost.ip !== idHostIp || storeHost.port !== idHostPort) {
    let prefix = "";
    for (const b of storeHost.ip) prefix += (b < 16 ? "0" : "") + b.toString(16).toUpperCase();
    idPrefix = prefix + hex8(storeHost.port >>> 0);
    idHost = storeHost;
    idHostIp = storeHost.ip;
    idHostPort = storeHost.port;
  }
  return idPrefix + hex8(Math.floor(commitLogOffset / 4294967296)) + hex8(commitLogOffset >>> 0);
}

/** The variable parts of a record, checked and encoded, ready to be written. */
export interface PreparedRecord {
  size: number;
  topicBytes: Uint8Array;
  propertiesBytes: Uint8Array;
  bodyCrc: number;
  sysFlag: number;
}

/** Why a record cannot be encoded. */
export interface RecordProblem {
  problem: "topic" | "properties" | "size" | "field";
  reason: string;
}

/** The fields of a message that go into its record. */
export interface RecordFields {
  topic: string;
  queueId: number;
  flag: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: SocketAddress;
  storeHost: SocketAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Uint8Array;
  properties: string;
}

/**
 * RocketMQ's `TopicValidator` pattern. The store enforces it too because a topic names a
 * directory under `consumequeue/`: nothing like `../x` may reach the file system.
 */
const topicPattern = /^[%|a-zA-Z0-9_-]+$/;

/** True for a topic name the store accepts. */
export function isValidTopic(topic: string): boolean {
  return topic.length > 0 && topic.length <= topicBytesMax && topicPattern.test(topic);
}

function isInt32(n: number): boolean {
  return (n | 0) === n;
}

/** Encodes records; holds the topic cache and the properties scratch buffer. */
export class RecordEncoder {
  readonly maxMessageSize: number;
  #topics = new Map<string, Uint8Array>();
  /** UTF-8 of a 32767-unit string is at most 3 bytes per unit. */
  #scratch = new Uint8Array(propertiesBytesMax * 3 + 4);

  constructor(maxMessageSize: number) {
    this.maxMessageSize = maxMessageSize;
  }

  /** The topic's UTF-8 bytes, or undefined when the name is not a valid topic. */
  topicBytes(topic: string): Uint8Array | undefined {
    let bytes = this.#topics.get(topic);
    if (bytes === undefined) {
      if (!isValidTopic(topic)) return undefined;
      bytes = textEncoder.encode(topic);
      if (this.#topics.size >= topicCacheMax) this.#topics.clear();
      this.#topics.set(topic, bytes);
    }
    return bytes;
  }

  /**
   * Checks and encodes the variable parts. With `ownProperties` the properties bytes are a fresh
   * copy (batches prepare several records before writing any); otherwise they live in the scratch
   * buffer until the next call.
   */
  prepare(fields: RecordFields, ownProperties: boolean): PreparedRecord | RecordProblem {
    const topicBytes = this.topicBytes(fields.topic);
    if (topicBytes === undefined) {
      return {
        problem: "topic",
        reason: `topic "${fields.topic.slice(0, 200)}" must be 1-${topicBytesMax} characters of [%|a-zA-Z0-9_-]`,
      };
    }
    const properties = fields.properties;
    if (properties.includes("\u0000")) {
      return { problem: "field", reason: "properties contain a NUL character, which the store reserves" };
    }
    if (properties.length > propertiesBytesMax) {
      return {
        problem: "properties",
        reason: `properties are at least ${properties.length} bytes, limit is ${propertiesBytesMax} bytes`,
      };
    }
    const { written } = textEncoder.encodeInto(properties, this.#scratch);
    if (written > propertiesBytesMax) {
      return {
        problem: "properties",
        reason: `properties are ${written} bytes, limit is ${propertiesBytesMax} bytes`,
      };
    }
    const propertiesBytes = ownProperties ? this.#scratch.slice(0, written) : this.#scratch.subarray(0, written);
    const bornIp = fields.bornHost.ip.length;
    const storeIp = fields.storeHost.ip.length;
    if ((bornIp !== 4 && bornIp !== 16) || (storeIp !== 4 && storeIp !== 16)) {
      return { problem: "field", reason: `host addresses must be 4 or 16 bytes, got ${bornIp} and ${storeIp}` };
    }
    if (
      !isInt32(fields.queueId) || fields.queueId < 0 || !isInt32(fields.flag) || !isInt32(fields.sysFlag) ||
      !isInt32(fields.reconsumeTimes) || !Number.isSafeInteger(fields.bornTimestamp) ||
      !Number.isSafeInteger(fields.preparedTransactionOffset)
    ) {
      return { problem: "field", reason: `a numeric field is out of range (queueId ${fields.queueId})` };
    }
    const size = messageRecordSize(fields.body.length, topicBytes.length, written, bornIp + 4, storeIp + 4);
    if (size > this.maxMessageSize) {
      return {
        problem: "size",
        reason: `record is ${size} bytes (body ${fields.body.length}), limit is ${this.maxMessageSize} bytes`,
      };
    }
    return {
      size,
      topicBytes,
      propertiesBytes,
      bodyCrc: bodyCrc(fields.body),
      sysFlag: withHostFlags(fields.sysFlag, fields.bornHost, fields.storeHost),
    };
  }
}

/**
 * Writes a prepared record at `position` of `target` (whose `view` covers the same bytes) with the
 * offsets and time the store assigned. Returns the record size.
 */
export function writeRecord(
  target: Uint8Array,
  view: DataView,
  position: number,
  fields: RecordFields,
  prepared: PreparedRecord,
  queueOffset: number,
  commitLogOffset: number,
  storeTimestamp: number,
): number {
  const size = prepared.size;
  assert(position + size <= target.length, "record must fit the write chunk");
  let p = position;
  view.setInt32(p, size);
  view.setInt32(p + 4, MESSAGE_MAGIC_CODE);
  view.setInt32(p + 8, prepared.bodyCrc);
  view.setInt32(p + 12, fields.queueId);
  view.setInt32(p + 16, fields.flag);
  setU64(view, p + 20, queueOffset);
  setU64(view, p + 28, commitLogOffset);
  view.setInt32(p + 36, prepared.sysFlag);
  setU64(view, p + 40, fields.bornTimestamp);
  p += 48;
  target.set(fields.bornHost.ip, p);
  p += fields.bornHost.ip.length;
  view.setInt32(p, fields.bornHost.port);
  setU64(view, p + 4, storeTimestamp);
  p += 12;
  target.set(fields.storeHost.ip, p);
  p += fields.storeHost.ip.length;
  view.setInt32(p, fields.storeHost.port);
  view.setInt32(p + 4, fields.reconsumeTimes);
  setU64(view, p + 8, fields.preparedTransactionOffset);
  view.setInt32(p + 16, fields.body.length);
  p += 20;
  target.set(fields.body, p);
  p += fields.body.length;
  view.setInt8(p, prepared.topicBytes.length);
  target.set(prepared.topicBytes, p + 1);
  p += 1 + prepared.topicBytes.length;
  view.setInt16(p, prepared.propertiesBytes.length);
  target.set(prepared.propertiesBytes, p + 2);
  assert(p + 2 + prepared.propertiesBytes.length - position === size, "record layout must add up to its size");
  return size;
}

/** Writes the BLANK record header that ends a segment: `[remaining][BLANK magic]`. */
export function writeBlank(view: DataView, position: number, remainingBytes: number): void {
  view.setInt32(position, remainingBytes);
  view.setInt32(position + 4, BLANK_MAGIC_CODE);
}

/**
 * Cheap structural check of the record at `position` (no CRC, no decoding), for every read:
 * size and magic, PHYSICALOFFSET equal to `commitLogOffset`, field lengths adding up to the size,
 * and no NUL in topic or properties (what a torn tail reads as). Returns the problem, or undefined.
 */
export function checkRecordShape(
  bytes: Uint8Array,
  view: DataView,
  position: number,
  commitLogOffset: number,
  size: number,
): string | undefined {
  if (view.getInt32(position) !== size) return `size field ${view.getInt32(position)} is not ${size}`;
  if (view.getInt32(position + 4) !== MESSAGE_MAGIC_CODE) return "magic code is not a message";
  if (getU64(view, position + 28) !== commitLogOffset) return "PHYSICALOFFSET differs from its position";
  const sysFlag = view.getInt32(position + 36);
  const end = position + size;
  let p = position + 48 + ((sysFlag & 0x10) ? 20 : 8) + 8 + ((sysFlag & 0x20) ? 20 : 8) + 12;
  if (p + 4 > end) return "record too short for its hosts";
  const bodyLength = view.getInt32(p);
  p += 4 + bodyLength;
  if (bodyLength < 0 || p + 3 > end) return `body length ${bodyLength} runs past the record`;
  const topicStart = p;
  p += 1 + view.getUint8(p);
  if (p + 2 > end || p + 2 + view.getInt16(p) !== end) return "field lengths do not add up to the size";
  const topicNul = bytes.indexOf(0, topicStart + 1);
  if (topicNul >= 0 && topicNul < p) return "NUL in the topic: a torn tail";
  const propertiesNul = bytes.indexOf(0, p + 2);
  if (propertiesNul >= 0 && propertiesNul < end) return "NUL in the properties: a torn tail";
  // The body CRC (native, ~18 GB/s) catches flipped bits in what the consumer actually reads.
  const bodyStart = topicStart - bodyLength;
  const crc = (nativeCrc32(bytes.subarray(bodyStart, topicStart)) & 0x7FFFFFFF) | 0;
  if (crc !== view.getInt32(position + 8)) return `body CRC ${view.getInt32(position + 8)} does not match ${crc}`;
  return undefined;
}

/** What the recovery scan learns from a verified record. */
export interface ScannedRecord {
  size: number;
  queueId: number;
  queueOffset: number;
  sysFlag: number;
  storeTimestamp: number;
  topic: string;
  properties: string;
}

/**
 * Verifies the record at `position` of `bytes` (which must hold all of it) and extracts what a
 * re-dispatch needs. Returns a reason string when the record is corrupt: wrong magic, size out of
 * bounds, field lengths that do not add up to the size, PHYSICALOFFSET not equal to
 * `commitLogOffset`, unknown sysFlag bits, undecodable topic or properties, or (with `checkCrc`)
 * a body CRC mismatch.
 */
export function scanRecord(
  bytes: Uint8Array,
  view: DataView,
  position: number,
  commitLogOffset: number,
  checkCrc: boolean,
): ScannedRecord | string {
  const size = view.getInt32(position);
  if (view.getInt32(position + 4) !== MESSAGE_MAGIC_CODE) return "magic code is not a message";
  if (size < RECORD_OVERHEAD_BYTES || position + size > bytes.length) return `size ${size} is out of bounds`;
  const physical = getU64(view, position + 28);
  if (physical !== commitLogOffset) return `PHYSICALOFFSET ${physical} differs from its position ${commitLogOffset}`;
  const sysFlag = view.getInt32(position + 36);
  if ((sysFlag & ~0x7FF) !== 0) return `sysFlag ${sysFlag} has unknown bits`;
  const bornIp = (sysFlag & 0x10) ? 16 : 4;
  const storeIp = (sysFlag & 0x20) ? 16 : 4;
  let p = position + 48 + bornIp + 4;
  const storeTimestamp = getU64(view, p);
  p += 8 + storeIp + 4 + 12;
  const end = position + size;
  if (p + 4 > end) return "record too short for its hosts";
  const bodyLength = view.getInt32(p);
  p += 4;
  if (bodyLength < 0 || p + bodyLength + 3 > end) return `body length ${bodyLength} runs past the record`;
  const body = bytes.subarray(p, p + bodyLength);
  p += bodyLength;
  const topicLength = view.getUint8(p);
  p += 1;
  if (topicLength === 0 || topicLength > topicBytesMax || p + topicLength + 2 > end) {
    return `topic length ${topicLength} is invalid`;
  }
  let topic: string;
  let properties: string;
  try {
    topic = textDecoder.decode(bytes.subarray(p, p + topicLength));
    p += topicLength;
    const propertiesLength = view.getInt16(p);
    p += 2;
    if (propertiesLength < 0 || p + propertiesLength !== end) {
      return `properties length ${propertiesLength} does not end at the record size`;
    }
    properties = textDecoder.decode(bytes.subarray(p, p + propertiesLength));
  } catch {
    return "topic or properties are not UTF-8";
  }
  // The body CRC does not cover topic and properties. Unwritten sectors of a torn record read as
  // zeros (segments are zero-filled, and recovery zeroes what it drops), and puts refuse NUL in
  // properties, so a NUL here means the record's tail never reached the disk.
  if (!isValidTopic(topic)) return `topic "${topic.slice(0, 40)}" is not a valid topic name`;
  if (properties.includes("\u0000")) return "properties contain NUL: the record's tail is torn";
  if (checkCrc) {
    const expected = view.getInt32(position + 8);
    const actual = bodyCrc(body);
    if (actual !== expected) return `body CRC ${actual} differs from the stored ${expected}`;
  }
  return {
    size,
    queueId: view.getInt32(position + 12),
    queueOffset: getU64(view, position + 20),
    sysFlag,
    storeTimestamp,
    topic,
    properties,
  };
}

/** RocketMQ's default delay levels in ms ("1s 5s 10s 30s 1m … 2h"), level 1 first. */
export const DEFAULT_DELAY_LEVELS_MS: readonly number[] = [
  1,
  5,
  10,
  30,
  60,
  120,
  180,
  240,
  300,
  360,
  420,
  480,
  540,
  600,
  1200,
  1800,
  3600,
  7200,
].map((s) => s * 1000);

/**
 * Parses RocketMQ's `messageDelayLevel` ("1s 5s 10s 30s 1m … 2h"; units s, m, h, d) to ms.
 *
 * @throws {RangeError} on a malformed level.
 */
export function parseDelayLevels(text: string): number[] {
  const unitMs: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return text.trim().split(/\s+/).map((level) => {
    const match = /^([0-9]+)([smhd])$/.exec(level);
    if (!match) throw new RangeError(`Cannot parse delay level "${level}": expected a number and one of s, m, h, d`);
    return Number(match[1]) * unitMs[match[2]];
  });
}

/**
 * The tags code a re-dispatched record gets: the delivery time for SCHEDULE_TOPIC_XXXX (store
 * time + the DELAY level's delay), else the hash of TAGS. Mirrors what the broker passes at put.
 */
export function defaultTagsCode(
  topic: string,
  properties: Map<string, string>,
  storeTimestamp: number,
  delayLevelsMs: readonly number[] = DEFAULT_DELAY_LEVELS_MS,
): number {
  if (topic === "SCHEDULE_TOPIC_XXXX") {
    const level = Number(properties.get(MessageProperty.DELAY));
    if (Number.isInteger(level) && level > 0) {
      return storeTimestamp + delayLevelsMs[Math.min(level, delayLevelsMs.length) - 1];
    }
    return storeTimestamp + 1000;
  }
  return tagsHashCode(properties.get(MessageProperty.TAGS));
}

/** The keys a re-dispatched record is indexed under: KEYS tokens plus UNIQ_KEY. */
export function defaultKeys(properties: Map<string, string>): string[] {
  const keys: string[] = [];
  const text = properties.get(MessageProperty.KEYS);
  if (text) { for (const k of text.split(KEY_SEPARATOR)) if (k.length > 0) keys.push(k); }
  const uniq = properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
  if (uniq) keys.push(uniq);
  return keys;
}

export { parseProperties };
