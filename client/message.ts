/**
 * Messages as the client's users see them: what a producer sends ({@linkcode Message}), what a
 * consumer receives ({@linkcode ReceivedMessage}), the queue they travel through
 * ({@linkcode MessageQueue}), and the translation to and from the wire (properties string, zlib
 * body compression, pull-body records).
 *
 * Runtime-neutral: compression uses `node:zlib`, which Deno and Node both provide.
 *
 * @module
 */

import { deflateSync, inflateSync } from "node:zlib";
import {
  createOffsetMessageId,
  decodeMessageRecord,
  formatSocketAddress,
  KEY_SEPARATOR,
  type MessageRecord,
  MessageSysFlag,
  NAME_VALUE_SEPARATOR,
  parsePropertiesObject,
  PROPERTY_SEPARATOR,
  type SocketAddress,
} from "../protocol/message.ts";
import { topicBytesMax } from "../protocol/limits.ts";

/** A queue of a topic on one broker: the unit of ordering, assignment and offsets. */
export interface MessageQueue {
  readonly topic: string;
  readonly brokerName: string;
  readonly queueId: number;
}

/** A message to send. */
export interface Message {
  /** Destination topic: `[%|a-zA-Z0-9_-]`, at most 127 characters. */
  topic: string;
  /** Payload; a string is sent as UTF-8. Must not be empty. */
  body: Uint8Array | string;
  /** One tag, used for broker-side filtering (`subscribe(topic, "TagA || TagB")`). */
  tags?: string;
  /** Business keys, indexed by the broker for lookups. */
  keys?: string | readonly string[];
  /** User properties. Names reserved by RocketMQ (`KEYS`, `TAGS`, `UNIQ_KEY`, …) are rejected. */
  properties?: Readonly<Record<string, string>>;
  /** Delay level 1–18 (`1s 5s 10s 30s 1m … 2h` on a default broker); 0 or absent sends now. */
  delayLevel?: number;
  /** User flag, stored as is. */
  flag?: number;
  /** Whether the broker should wait for flush/replication before answering (RocketMQ `WAIT`, default true). */
  waitStoreMsgOk?: boolean;
}

/** Property names RocketMQ reserves (`MessageConst.STRING_HASH_SET`): not allowed as user properties. */
export const SYSTEM_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  "TRACE_ON",
  "MSG_REGION",
  "KEYS",
  "TAGS",
  "WAIT",
  "DELAY",
  "RETRY_TOPIC",
  "REAL_TOPIC",
  "REAL_QID",
  "TRAN_MSG",
  "PGROUP",
  "MIN_OFFSET",
  "MAX_OFFSET",
  "BUYER_ID",
  "ORIGIN_MESSAGE_ID",
  "TRANSFER_FLAG",
  "CORRECTION_FLAG",
  "MQ2_FLAG",
  "RECONSUME_TIME",
  "UNIQ_KEY",
  "MAX_RECONSUME_TIMES",
  "CONSUME_START_TIME",
  "INSTANCE_ID",
  "CORRELATION_ID",
  "REPLY_TO_CLIENT",
  "TTL",
  "ARRIVE_TIME",
  "PUSH_REPLY_TIME",
  "CLUSTER",
  "MSG_TYPE",
  "INNER_MULTI_QUEUE_OFFSET",
  // Not in Java's set, but broker-added and never a user's.
  "TRAN_PREPARED_QUEUE_OFFSET",
  "TRANSACTION_CHECK_TIMES",
  "CHECK_IMMUNITY_TIME_IN_SECONDS",
  "INNER_MULTI_DISPATCH",
]);

/** Highest delay level of a default broker (`messageDelayLevel` has 18 entries). */
export const DELAY_LEVEL_MAX = 18;

/** Prefix of a group's retry topic. */
export const RETRY_TOPIC_PREFIX = "%RETRY%";
/** Prefix of a group's dead-letter topic. */
export const DLQ_TOPIC_PREFIX = "%DLQ%";

/** The retry topic of `group`. */
export function retryTopic(group: string): string {
  return RETRY_TOPIC_PREFIX + group;
}

/** The dead-letter topic of `group`. */
export function dlqTopic(group: string): string {
  return DLQ_TOPIC_PREFIX + group;
}

/** A stable string key for a queue, for maps. */
export function queueKey(queue: MessageQueue): string {
  return `${queue.topic}@${queue.brokerName}@${queue.queueId}`;
}

/** Java `MessageQueue.compareTo`: by topic, then broker name, then queue id. */
export function compareQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/** A plain `{ brokerName, queueId, topic }` object in fastjson's field order. */
export function queueJson(queue: MessageQueue): { brokerName: string; queueId: number; topic: string } {
  return { brokerName: queue.brokerName, queueId: queue.queueId, topic: queue.topic };
}

/** Reads a MessageQueue from a JSON value (as found in fastjson object keys and lists). */
export function readQueue(value: unknown): MessageQueue | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o.topic !== "string" || typeof o.brokerName !== "string") return undefined;
  const queueId = Number(o.queueId);
  if (!Number.isInteger(queueId)) return undefined;
  return { topic: o.topic, brokerName: o.brokerName, queueId };
}

/** Entries of a JSON object or of a `Map` (fastjson object keys parse to a Map). */
export function mapEntries(value: unknown): Array<[unknown, unknown]> {
  if (value instanceof Map) return [...value.entries()];
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).map(([k, v]) => {
      try {
        return [JSON.parse(k), v];
      } catch {
        return [k, v];
      }
    });
  }
  return [];
}

const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;

/** Topics a producer may not send to (`TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET`). */
const NOT_ALLOWED_SEND_TOPICS = new Set([
  "SCHEDULE_TOPIC_XXXX",
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  "TRANS_CHECK_MAX_TIME_TOPIC",
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT",
]);

/**
 * Checks a topic or group name the way Java's `Validators` does.
 *
 * @throws {TypeError} when it is blank, too long or has characters outside `[%|a-zA-Z0-9_-]`.
 */
export function checkName(name: string, what: "topic" | "group"): void {
  if (typeof name !== "string" || name.trim() === "") throw new TypeError(`The ${what} name must not be blank`);
  if (name.length > topicBytesMax) {
    throw new TypeError(`The ${what} name "${name}" is ${name.length} characters, limit is ${topicBytesMax}`);
  }
  if (!TOPIC_PATTERN.test(name)) {
    throw new TypeError(`The ${what} name "${name}" has characters outside [%|a-zA-Z0-9_-]`);
  }
}

/**
 * Checks that `topic` can be sent to.
 *
 * @throws {TypeError} for an invalid name or a topic reserved by the broker.
 */
export function checkSendTopic(topic: string): void {
  checkName(topic, "topic");
  if (NOT_ALLOWED_SEND_TOPICS.has(topic)) throw new TypeError(`Sending to topic "${topic}" is not allowed`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The body of a message as bytes (strings as UTF-8). */
export function bodyBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === "string" ? encoder.encode(body) : body;
}

function checkPropertyText(text: string, what: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 1 || c === 2) throw new TypeError(`${what} "${text}" must not contain the characters \\u0001 or \\u0002`);
  }
}

/** Options for {@linkcode encodeMessageProperties}. */
export interface PropertyExtras {
  /** Client message id (UNIQ_KEY). */
  uniqueKey?: string;
  /** Extra system properties, already validated (retry bookkeeping, origin ids). */
  system?: Readonly<Record<string, string>>;
}

/**
 * The properties string a send carries: tags, keys, delay, WAIT, user properties and the
 * client message id, as `name\u0001value` pairs joined by `\u0002`.
 *
 * @throws {TypeError} when a user property uses a reserved name or a separator character.
 * @throws {RangeError} when the delay level is outside 0–18.
 */
export function encodeMessageProperties(message: Message, extras: PropertyExtras = {}): string {
  let out = "";
  const add = (name: string, value: string) => {
    if (out.length > 0) out += PROPERTY_SEPARATOR;
    out += name + NAME_VALUE_SEPARATOR + value;
  };
  if (message.tags !== undefined && message.tags !== "") {
    checkPropertyText(message.tags, "Tags");
    add("TAGS", message.tags);
  }
  const keys = message.keys;
  if (keys !== undefined) {
    const text = typeof keys === "string" ? keys : keys.join(KEY_SEPARATOR);
    if (text !== "") {
      checkPropertyText(text, "Keys");
      add("KEYS", text);
    }
  }
  const delay = message.delayLevel ?? 0;
  if (delay !== 0) {
    if (!Number.isInteger(delay) || delay < 0 || delay > DELAY_LEVEL_MAX) {
      throw new RangeError(`Cannot send message: delay level must be 0-${DELAY_LEVEL_MAX}, got ${delay}`);
    }
    add("DELAY", String(delay));
  }
  add("WAIT", message.waitStoreMsgOk === false ? "false" : "true");
  if (message.properties) {
    for (const name in message.properties) {
      const value = message.properties[name];
      if (value === undefined || value === null) continue;
      if (SYSTEM_PROPERTY_NAMES.has(name)) {
        throw new TypeError(`Cannot send message: property "${name}" is reserved by RocketMQ`);
      }
      checkPropertyText(name, "Property name");
      checkPropertyText(String(value), `Property "${name}"`);
      add(name, String(value));
    }
  }
  if (extras.system) { for (const name in extras.system) add(name, extras.system[name]); }
  if (extras.uniqueKey) add("UNIQ_KEY", extras.uniqueKey);
  return out;
}

/**
 * Body compression as Java 4.9.4+ producers do it: zlib (with header) at `level`, for bodies of
 * at least `thresholdBytes`. Returns the sysFlag bits to OR in (`COMPRESSED | ZLIB` = 0x301) and
 * the bytes to send; a body that does not shrink is sent as is.
 */
export function compressBody(
  body: Uint8Array,
  thresholdBytes: number,
  level: number,
): { body: Uint8Array; sysFlag: number } {
  if (body.length < thresholdBytes) return { body, sysFlag: 0 };
  const compressed = deflateSync(body, { level });
  if (compressed.length >= body.length) return { body, sysFlag: 0 };
  return {
    body: new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength),
    sysFlag: MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZLIB,
  };
}

/**
 * Undoes {@linkcode compressBody} for a received record. Compression type 0 (pre-4.9.4 clients,
 * ali-ons) and 3 mean zlib; LZ4 and ZSTD bodies are returned as received, with `compressed` true.
 *
 * @throws {Error} when a zlib body cannot be inflated.
 */
export function decompressBody(body: Uint8Array, sysFlag: number): { body: Uint8Array; compressed: boolean } {
  if ((sysFlag & MessageSysFlag.COMPRESSED) === 0) return { body, compressed: false };
  const type = sysFlag & MessageSysFlag.COMPRESSION_TYPE_MASK;
  if (type !== 0 && type !== MessageSysFlag.COMPRESSION_ZLIB) return { body, compressed: true };
  const inflated = inflateSync(body);
  return { body: new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength), compressed: false };
}

/** A message as a consumer receives it. */
export class ReceivedMessage {
  /** Topic as the application published it (for a retried message: the original topic). */
  topic: string;
  /** Payload, decompressed. */
  readonly body: Uint8Array;
  /** All properties, system ones included. */
  readonly properties: Readonly<Record<string, string>>;
  /** The queue the message was pulled from (a `%RETRY%` queue for redeliveries). */
  readonly queue: MessageQueue;
  /** Position in {@linkcode queue}. */
  readonly queueOffset: number;
  /** Byte position in the broker's commit log. */
  readonly commitLogOffset: number;
  readonly bornTimestamp: number;
  readonly storeTimestamp: number;
  /** Times this message has been redelivered after a failed consumption. */
  reconsumeTimes: number;
  readonly sysFlag: number;
  /** User flag. */
  readonly flag: number;
  readonly bodyCrc: number;
  readonly preparedTransactionOffset: number;
  /** True when the body is still compressed (an LZ4/ZSTD body this client cannot inflate). */
  readonly bodyCompressed: boolean;
  readonly #bornHost: SocketAddress;
  readonly #storeHost: SocketAddress;
  #offsetMsgId: string | undefined;

  constructor(
    record: MessageRecord,
    brokerName: string,
    properties: Record<string, string>,
    queue: MessageQueue = { topic: record.topic, brokerName, queueId: record.queueId },
  ) {
    const { body, compressed } = decompressBody(record.body, record.sysFlag);
    this.topic = record.topic;
    this.body = body;
    this.bodyCompressed = compressed;
    this.properties = properties;
    this.queue = queue;
    this.queueOffset = record.queueOffset;
    this.commitLogOffset = record.commitLogOffset;
    this.bornTimestamp = record.bornTimestamp;
    this.storeTimestamp = record.storeTimestamp;
    this.reconsumeTimes = record.reconsumeTimes;
    this.sysFlag = record.sysFlag;
    this.flag = record.flag;
    this.bodyCrc = record.bodyCrc ?? 0;
    this.preparedTransactionOffset = record.preparedTransactionOffset;
    this.#bornHost = record.bornHost;
    this.#storeHost = record.storeHost;
  }

  /** Queue id of {@linkcode queue}. */
  get queueId(): number {
    return this.queue.queueId;
  }

  /** Broker that stored the message. */
  get brokerName(): string {
    return this.queue.brokerName;
  }

  /** The client message id (UNIQ_KEY) when present, else {@linkcode offsetMsgId}: Java's `getMsgId()`. */
  get msgId(): string {
    return this.properties.UNIQ_KEY ?? this.offsetMsgId;
  }

  /** Broker-side id: store host and commit-log offset, hex. */
  get offsetMsgId(): string {
    return this.#offsetMsgId ??= createOffsetMessageId(this.#storeHost, this.commitLogOffset);
  }

  /** The tag, if any. */
  get tags(): string | undefined {
    return this.properties.TAGS;
  }

  /** Business keys. */
  get keys(): string[] {
    const text = this.properties.KEYS;
    return text ? text.split(KEY_SEPARATOR).filter((k) => k !== "") : [];
  }

  /** Properties the application set (system ones removed). */
  get userProperties(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name in this.properties) if (!SYSTEM_PROPERTY_NAMES.has(name)) out[name] = this.properties[name];
    return out;
  }

  /** Body as UTF-8 text. */
  get text(): string {
    return decoder.decode(this.body);
  }

  /** `ip:port` of the producer's connection. */
  get bornHost(): string {
    return formatSocketAddress(this.#bornHost);
  }

  /** `ip:port` of the broker that stored it. */
  get storeHost(): string {
    return formatSocketAddress(this.#storeHost);
  }

  /** For JSON logs: the fields, body as length. */
  toJSON(): Record<string, unknown> {
    return {
      topic: this.topic,
      msgId: this.msgId,
      offsetMsgId: this.offsetMsgId,
      queue: this.queue,
      queueOffset: this.queueOffset,
      tags: this.tags,
      keys: this.keys,
      reconsumeTimes: this.reconsumeTimes,
      bodyBytes: this.body.length,
    };
  }
}

/** Options for {@linkcode decodePulledMessages}. */
export interface DecodePulledOptions {
  /** Broker the body came from (records do not carry it). */
  brokerName: string;
  /** Added to each message as MIN_OFFSET/MAX_OFFSET (Java does this from the pull response). */
  minOffset?: number;
  maxOffset?: number;
  /** Keep only messages whose tag is in this set (client-side re-check of the broker's hash filter). */
  tags?: ReadonlySet<string>;
  /** The group, to restore the original topic of `%RETRY%<group>` messages. */
  group?: string;
}

/**
 * Decodes a PULL_MESSAGE body into messages: records back to back, bodies decompressed, tags
 * filtered by exact string, and the original topic restored for retry-topic messages.
 *
 * @throws {ProtocolError} on a malformed record.
 */
export function decodePulledMessages(body: Uint8Array, options: DecodePulledOptions): ReceivedMessage[] {
  const out: ReceivedMessage[] = [];
  const retry = options.group !== undefined ? retryTopic(options.group) : undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  // The same for every message of a pull: computed once.
  const minOffset = options.minOffset !== undefined ? String(options.minOffset) : undefined;
  const maxOffset = options.maxOffset !== undefined ? String(options.maxOffset) : undefined;
  let queue: MessageQueue | undefined;
  let pos = 0;
  while (pos < body.length) {
    const record = decodeMessageRecord(body, pos, {}, view);
    pos += record.size;
    const properties = parsePropertiesObject(record.properties);
    if (options.tags && options.tags.size > 0) {
      const tag = properties.TAGS;
      if (tag === undefined || !options.tags.has(tag)) continue;
    }
    if (minOffset !== undefined) properties.MIN_OFFSET = minOffset;
    if (maxOffset !== undefined) properties.MAX_OFFSET = maxOffset;
    // A pull reads one queue: its messages share one queue object.
    if (queue === undefined || queue.topic !== record.topic || queue.queueId !== record.queueId) {
      queue = { topic: record.topic, brokerName: options.brokerName, queueId: record.queueId };
    }
    const message = new ReceivedMessage(record, options.brokerName, properties, queue);
    if (retry !== undefined && record.topic === retry && properties.RETRY_TOPIC) message.topic = properties.RETRY_TOPIC;
    out.push(message);
  }
  return out;
}
