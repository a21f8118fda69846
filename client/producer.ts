/**
 * The producer: sends messages to a topic's queues, spread round robin over the brokers, with
 * retries on another broker for retriable failures and latency-fault avoidance (Java's
 * `DefaultMQProducer`). Also ordered sends (a sharding key picks the queue), batches (code
 * 320), oneway sends, and a callback form with backpressure.
 *
 * Backpressure: at most `producerInflightMax` sends are on the wire; `send()` first awaits a
 * permit, so a caller that fires many sends at once waits instead of growing buffers.
 *
 * Runtime-neutral; imports `protocol/` and the client's own files.
 *
 * @module
 */

import process from "node:process";
import { createRequest, type ExtFields, type RemotingCommand } from "../protocol/command.ts";
import { encodeBatchBody } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { parseIp, UniqueIdGenerator } from "../protocol/message.ts";
import { Semaphore, sleep } from "./_async.ts";
import { errorText } from "./_log.ts";
import { ClientInstance, type ClientOptions, positiveInteger, responseError } from "./client_instance.ts";
import { BrokerResponseError, ClientClosedError } from "./errors.ts";
import { FaultStrategy } from "./fault_strategy.ts";
import {
  bodyBytes,
  checkSendTopic,
  compressBody,
  encodeMessageProperties,
  type Message,
  type MessageQueue,
  RETRY_TOPIC_PREFIX,
} from "./message.ts";
import { type QueueSelector, selectByHash, type ShardingKey } from "./queue_selector.ts";
import { RemotingTimeoutError, RemotingTransportError } from "./remoting_client.ts";
import type { TopicPublishInfo } from "./route_cache.ts";

/** Options for {@linkcode Producer}. */
export interface ProducerOptions extends ClientOptions {
  /** Producer group (Java `producerGroup`); default `DEFAULT_PRODUCER`. */
  group?: string;
  /** Total time budget of one send, retries included (Java: 3 s). */
  sendTimeoutMs?: number;
  /** Extra attempts after a retriable failure, each on another broker when there is one (Java: 2). */
  retryTimesWhenSendFailed?: number;
  /** Sends on the wire at once; `send()` waits for a permit beyond that. Default 1024. */
  producerInflightMax?: number;
  /** Bodies of at least this many bytes are zlib-compressed (Java: 4096). */
  compressBodyOverBytes?: number;
  /** zlib level (Java: 5). */
  compressLevel?: number;
  /** Largest body (or encoded batch) accepted (Java and the broker: 4 MiB). */
  maxMessageBytes?: number;
  /** Template topic for auto-creation (Java `createTopicKey`: `TBW102`). */
  createTopicKey?: string;
  /** Queue count of an auto-created topic (Java: 4). */
  defaultTopicQueueNums?: number;
  /** Bench brokers that were slow or failed (Java `sendLatencyFaultEnable`). Default true. */
  sendLatencyFaultEnable?: boolean;
  /** Retry on another broker when the broker stored the message but not durably (FLUSH_DISK_TIMEOUT…). Default false. */
  retryAnotherBrokerWhenNotStoreOk?: boolean;
  /** Aborting shuts the producer down. */
  signal?: AbortSignal;
}

/** Per-send options. */
export interface SendOptions {
  /** Send to exactly this queue (no retries on other queues). */
  queue?: MessageQueue;
  /**
   * Ordered send: messages with the same key go to the same queue (hash, as Java's
   * `SelectMessageQueueByHash`), and are not retried elsewhere.
   */
  shardingKey?: ShardingKey;
  /** Custom queue choice for `shardingKey` (default {@linkcode selectByHash}). */
  selector?: QueueSelector;
  /** Overrides `sendTimeoutMs`. */
  timeoutMs?: number;
  /** Stops waiting (for a permit or for the reply); a message already written may still be stored. */
  signal?: AbortSignal;
}

/** Whether and how durably the broker stored the message. */
export type SendStatus = "SEND_OK" | "FLUSH_DISK_TIMEOUT" | "FLUSH_SLAVE_TIMEOUT" | "SLAVE_NOT_AVAILABLE";

/** The outcome of a send. */
export interface SendResult {
  status: SendStatus;
  /** Client message id (UNIQ_KEY); for a batch, the ids comma-separated. */
  msgId: string;
  /** Broker message id (store host + commit-log offset); for a batch, comma-separated. */
  offsetMsgId: string;
  /** Queue the message went to. */
  queue: MessageQueue;
  /** Its position in the queue (a batch: the first message's). */
  queueOffset: number;
  /** Broker region (`MSG_REGION`). */
  regionId?: string;
  /** Whether the broker has message tracing on (`TRACE_ON`). */
  traceOn: boolean;
}

/** Called with the outcome of {@linkcode Producer.sendAsync}. */
export type SendCallback = (error: Error | undefined, result: SendResult | undefined) => void;

/**
 * Response codes worth another attempt: Java's `retryResponseCodes` plus SYSTEM_BUSY (the broker
 * sheds load; another broker, or a moment later, may accept).
 */
export const RETRIABLE_SEND_CODES: ReadonlySet<number> = new Set<number>([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
  ResponseCode.SYSTEM_BUSY,
]);

/** Backoff before retrying a SYSTEM_BUSY answer: doubles from this, capped at {@linkcode BUSY_BACKOFF_MAX_MS}. */
const BUSY_BACKOFF_MS = 50;
const BUSY_BACKOFF_MAX_MS = 1000;

const SEND_STATUS_BY_CODE = new Map<number, SendStatus>([
  [ResponseCode.SUCCESS, "SEND_OK"],
  [ResponseCode.FLUSH_DISK_TIMEOUT, "FLUSH_DISK_TIMEOUT"],
  [ResponseCode.FLUSH_SLAVE_TIMEOUT, "FLUSH_SLAVE_TIMEOUT"],
  [ResponseCode.SLAVE_NOT_AVAILABLE, "SLAVE_NOT_AVAILABLE"],
]);

/** A message encoded once for every attempt. */
interface PreparedSend {
  topic: string;
  body: Uint8Array;
  properties: string;
  sysFlag: number;
  flag: number;
  batch: boolean;
  /** Client id(s) for the result. */
  msgId: string;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
  /** The message as given, for custom queue selectors. */
  source?: Message;
}

/**
 * Checks a batch before anything is sent: same topic, no delay, no retry topic, and the encoded
 * size within `maxBytes`.
 *
 * @throws {TypeError} for an empty or mixed batch.
 * @throws {RangeError} when the encoded batch exceeds `maxBytes`.
 */
export function checkBatch(messages: readonly Message[], encodedBytes: number, maxBytes: number): void {
  if (messages.length === 0) throw new TypeError("Cannot send batch: it has no message");
  const topic = messages[0].topic;
  const wait = messages[0].waitStoreMsgOk !== false;
  for (const message of messages) {
    if (message.topic !== topic) {
      throw new TypeError(`Cannot send batch: topics differ ("${topic}" and "${message.topic}")`);
    }
    if ((message.delayLevel ?? 0) > 0) throw new TypeError("Cannot send batch: delayed messages cannot be batched");
    if (message.topic.startsWith(RETRY_TOPIC_PREFIX)) {
      throw new TypeError(`Cannot send batch: retry topic "${topic}" cannot be batched`);
    }
    if ((message.waitStoreMsgOk !== false) !== wait) {
      throw new TypeError("Cannot send batch: waitStoreMsgOk differs between messages");
    }
  }
  if (encodedBytes > maxBytes) {
    throw new RangeError(
      `Cannot send batch of ${messages.length} messages to topic "${topic}": encoded size is ${encodedBytes} bytes, limit is ${maxBytes} bytes`,
    );
  }
}

/** Bytes one message takes in a batch body: 22 bytes of fields, the body and the properties. */
export function batchEntryBytes(message: Message, uniqueKeyLength = 32): number {
  const body = typeof message.body === "string" ? new TextEncoder().encode(message.body).length : message.body.length;
  const properties = new TextEncoder().encode(encodeMessageProperties(message)).length +
    (uniqueKeyLength > 0 ? uniqueKeyLength + 10 : 0);
  return 22 + body + properties;
}

/**
 * Splits messages into batches whose encoded size stays within `maxBytes` (the "ListSplitter"
 * of RocketMQ's batch examples).
 *
 * @throws {RangeError} when a single message is larger than `maxBytes`.
 */
export function splitBatches(messages: readonly Message[], maxBytes = 4 * 1024 * 1024): Message[][] {
  const out: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = batchEntryBytes(message);
    if (size > maxBytes) {
      throw new RangeError(
        `Cannot batch message for topic "${message.topic}": it is ${size} bytes, limit is ${maxBytes}`,
      );
    }
    if (bytes + size > maxBytes && current.length > 0) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Sends messages to RocketMQ 4.x brokers (or denomq).
 *
 * @example Send, then shut down
 * ```ts ignore
 * import { Producer } from "./producer.ts";
 *
 * await using producer = new Producer({ nameServer: "127.0.0.1:9876", group: "orders-producer" });
 * const result = await producer.send({ topic: "orders", body: "order 42 paid", tags: "paid", keys: ["order-42"] });
 * console.log(result.msgId, result.queue.queueId, result.queueOffset);
 * ```
 *
 * @example Many in flight, bounded by producerInflightMax
 * ```ts ignore
 * import { Producer } from "./producer.ts";
 *
 * const producer = new Producer({ nameServer: "127.0.0.1:9876", producerInflightMax: 256 });
 * const results = await Promise.all(
 *   Array.from({ length: 10_000 }, (_, i) => producer.send({ topic: "events", body: `event ${i}` })),
 * );
 * await producer.shutdown();
 * ```
 */
export class Producer {
  /** The producer group. */
  readonly group: string;
  readonly #instance: ClientInstance;
  readonly #sendTimeoutMs: number;
  readonly #retryTimes: number;
  readonly #compressOverBytes: number;
  readonly #compressLevel: number;
  readonly #maxMessageBytes: number;
  readonly #createTopicKey: string;
  readonly #defaultTopicQueueNums: number;
  readonly #retryNotStoreOk: boolean;
  readonly #permits: Semaphore;
  readonly #fault: FaultStrategy;
  readonly #ids: UniqueIdGenerator;
  readonly #ownsInstance: boolean;
  #inflight = 0;
  #drained: (() => void) | undefined;
  #started = false;
  #closed = false;

  /**
   * Creates a producer. Nothing connects until the first send (or `start()`).
   *
   * @throws {TypeError} for a bad group name or NameServer list.
   * @throws {RangeError} for an out-of-range numeric option.
   */
  constructor(options: ProducerOptions, internal?: { instance: ClientInstance }) {
    this.group = options.group ?? "DEFAULT_PRODUCER";
    this.#ownsInstance = internal === undefined;
    this.#instance = internal?.instance ?? new ClientInstance(options, { producerGroup: this.group });
    this.#sendTimeoutMs = positiveInteger(options.sendTimeoutMs ?? 3000, "sendTimeoutMs");
    this.#retryTimes = options.retryTimesWhenSendFailed ?? 2;
    if (!Number.isInteger(this.#retryTimes) || this.#retryTimes < 0 || this.#retryTimes > 16) {
      throw new RangeError(`Invalid option retryTimesWhenSendFailed: expected 0-16, got ${this.#retryTimes}`);
    }
    this.#compressOverBytes = positiveInteger(options.compressBodyOverBytes ?? 4096, "compressBodyOverBytes");
    this.#compressLevel = options.compressLevel ?? 5;
    if (!Number.isInteger(this.#compressLevel) || this.#compressLevel < 0 || this.#compressLevel > 9) {
      throw new RangeError(`Invalid option compressLevel: expected 0-9, got ${this.#compressLevel}`);
    }
    this.#maxMessageBytes = positiveInteger(options.maxMessageBytes ?? 4 * 1024 * 1024, "maxMessageBytes");
    this.#createTopicKey = options.createTopicKey ?? "TBW102";
    this.#defaultTopicQueueNums = positiveInteger(options.defaultTopicQueueNums ?? 4, "defaultTopicQueueNums", 1024);
    this.#retryNotStoreOk = options.retryAnotherBrokerWhenNotStoreOk ?? false;
    this.#permits = new Semaphore(positiveInteger(options.producerInflightMax ?? 1024, "producerInflightMax", 65535));
    this.#fault = new FaultStrategy({ enabled: options.sendLatencyFaultEnable ?? true });
    this.#ids = new UniqueIdGenerator({
      ip: parseIp(this.#instance.clientIp),
      pid: process.pid,
      instanceHash: Math.floor(Math.random() * 2 ** 31),
    });
    if (options.signal) {
      if (options.signal.aborted) throw new ClientClosedError("Cannot create producer: the signal is already aborted");
      options.signal.addEventListener("abort", () => void this.shutdown(), { once: true });
    }
  }

  /** This client's id (`ip@instance`). */
  get clientId(): string {
    return this.#instance.clientId;
  }

  /** Sends in flight right now. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Starts the heartbeat and route timers. Called by the first send; idempotent. */
  start(): Promise<void> {
    this.#instance.assertOpen("start producer");
    if (!this.#started) {
      this.#started = true;
      if (this.#ownsInstance) this.#instance.start();
    }
    return Promise.resolve();
  }

  /**
   * Sends one message and waits for the broker's answer. Retriable failures (connection errors,
   * timeouts, SYSTEM_BUSY, TOPIC_NOT_EXIST, …) are retried up to `retryTimesWhenSendFailed`
   * times within the send timeout, on another broker when there is one.
   *
   * @throws {TypeError} for an invalid topic, empty body or reserved property.
   * @throws {RangeError} for a body over `maxMessageBytes` or a bad delay level.
   * @throws {BrokerResponseError} when the broker refused (after retries, if retriable).
   * @throws {RemotingTransportError} when no broker could be reached in time.
   * @throws {ClientClosedError} after `shutdown()`.
   */
  async send(message: Message, options: SendOptions = {}): Promise<SendResult> {
    const prepared = this.#prepare(message);
    const waiting = this.#admit(options.signal);
    if (waiting) await waiting;
    try {
      return await this.#sendPrepared(prepared, options);
    } finally {
      this.#leave();
    }
  }

  /**
   * Sends in the background: resolves as soon as the message holds an in-flight permit (so a
   * loop of `await sendAsync(...)` is throttled to `producerInflightMax`), and reports the
   * outcome to `callback` later.
   *
   * @throws {TypeError | RangeError} for an invalid message (the callback is not called).
   * @throws {ClientClosedError} after `shutdown()`.
   */
  async sendAsync(message: Message, callback: SendCallback, options: SendOptions = {}): Promise<void> {
    const prepared = this.#prepare(message);
    const waiting = this.#admit(options.signal);
    if (waiting) await waiting;
    this.#sendPrepared(prepared, options).then(
      (result) => {
        this.#leave();
        callback(undefined, result);
      },
      (error) => {
        this.#leave();
        callback(error as Error, undefined);
      },
    );
  }

  /**
   * Sends without waiting for an answer (and without retries); resolves once the frame is
   * queued for writing.
   */
  async sendOneway(message: Message, options: SendOptions = {}): Promise<void> {
    const prepared = this.#prepare(message);
    await this.#admit(options.signal);
    try {
      const info = await this.#publishInfo(prepared.topic);
      const queue = this.#chooseFixedQueue(info, message, options) ?? this.#fault.select(info);
      if (!queue) {
        throw new RemotingTransportError(`Cannot send to topic "${prepared.topic}": it has no writable queue`);
      }
      const addr = await this.#instance.brokerAddr(queue);
      await this.#instance.remoting.invokeOneway(addr, this.#request(prepared, queue));
    } finally {
      this.#leave();
    }
  }

  /**
   * Sends messages of one topic as one batch (SEND_BATCH_MESSAGE, code 320): they land in one
   * queue with consecutive offsets. The encoded size is checked against `maxMessageBytes` before
   * anything is sent; see {@linkcode splitBatches} for larger lists.
   *
   * @throws {TypeError} for an empty or mixed batch (topics, delay, retry topic).
   * @throws {RangeError} when the encoded batch exceeds `maxMessageBytes`.
   */
  async sendBatch(messages: readonly Message[], options: SendOptions = {}): Promise<SendResult> {
    this.#instance.assertOpen("send batch");
    if (messages.length === 0) throw new TypeError("Cannot send batch: it has no message");
    checkSendTopic(messages[0].topic);
    const ids: string[] = [];
    const entries = messages.map((message) => {
      const body = bodyBytes(message.body);
      if (body.length === 0) throw new TypeError(`Cannot send batch to topic "${message.topic}": a body is empty`);
      const id = this.#ids.next();
      ids.push(id);
      return { flag: message.flag ?? 0, body, properties: encodeMessageProperties(message, { uniqueKey: id }) };
    });
    const body = encodeBatchBody(entries);
    checkBatch(messages, body.length, this.#maxMessageBytes);
    const prepared: PreparedSend = {
      topic: messages[0].topic,
      body,
      properties: `WAIT\u0001${messages[0].waitStoreMsgOk === false ? "false" : "true"}`,
      sysFlag: 0,
      flag: 0,
      batch: true,
      msgId: ids.join(","),
    };
    await this.#admit(options.signal);
    try {
      return await this.#sendPrepared(prepared, options);
    } finally {
      this.#leave();
    }
  }

  /**
   * Re-sends a consumed message to its group's retry topic (what consumers do when
   * CONSUMER_SEND_MSG_BACK fails). Internal to the client.
   *
   * @internal
   */
  async sendRetry(
    message: Message,
    reconsumeTimes: number,
    maxReconsumeTimes: number,
    system: Record<string, string>,
  ): Promise<SendResult> {
    const prepared = this.#prepare(message, system);
    prepared.reconsumeTimes = reconsumeTimes;
    prepared.maxReconsumeTimes = maxReconsumeTimes;
    await this.#admit(undefined);
    try {
      return await this.#sendPrepared(prepared, {});
    } finally {
      this.#leave();
    }
  }

  /** Writable queues of `topic` (fetching the route if needed). */
  async queuesOf(topic: string): Promise<MessageQueue[]> {
    checkSendTopic(topic);
    return [...(await this.#publishInfo(topic)).queues];
  }

  /**
   * Stops accepting sends, waits for the ones in flight (each bounded by its timeout), then
   * unregisters from every broker and closes the connections. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#permits.close(new ClientClosedError(`Cannot send: producer ${this.clientId} was shut down`));
    if (this.#inflight > 0) await new Promise<void>((resolve) => this.#drained = resolve);
    if (this.#ownsInstance) await this.#instance.shutdown();
  }

  /** Same as {@linkcode shutdown}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  // ---- internals ----

  #prepare(message: Message, system?: Record<string, string>): PreparedSend {
    this.#instance.assertOpen("send message");
    checkSendTopic(message.topic);
    const raw = bodyBytes(message.body);
    if (raw.length === 0) throw new TypeError(`Cannot send message to topic "${message.topic}": the body is empty`);
    if (raw.length > this.#maxMessageBytes) {
      throw new RangeError(
        `Cannot send message to topic "${message.topic}": body is ${raw.length} bytes, limit is ${this.#maxMessageBytes} bytes`,
      );
    }
    let msgId: string;
    if (system?.UNIQ_KEY) {
      // A re-sent message keeps its client id, as Java's setUniqID keeps an existing one.
      const { UNIQ_KEY, ...rest } = system;
      msgId = UNIQ_KEY;
      system = rest;
    } else {
      msgId = this.#ids.next();
    }
    const properties = encodeMessageProperties(message, { uniqueKey: msgId, system });
    const { body, sysFlag } = compressBody(raw, this.#compressOverBytes, this.#compressLevel);
    return {
      topic: message.topic,
      body,
      properties,
      sysFlag,
      flag: message.flag ?? 0,
      batch: false,
      msgId,
      source: message,
    };
  }

  /** Takes an in-flight permit: synchronously when one is free (the common case), else a promise. */
  #admit(signal: AbortSignal | undefined): Promise<void> | undefined {
    if (this.#started && this.#permits.tryAcquire()) {
      this.#inflight++;
      return undefined;
    }
    return this.#admitSlowly(signal);
  }

  async #admitSlowly(signal: AbortSignal | undefined): Promise<void> {
    if (!this.#permits.tryAcquire()) await this.#permits.acquire(signal);
    this.#inflight++;
    if (!this.#started) await this.start();
  }

  #leave(): void {
    this.#permits.release();
    if (--this.#inflight === 0 && this.#drained) this.#drained();
  }

  async #publishInfo(topic: string): Promise<TopicPublishInfo> {
    const routes = this.#instance.routes;
    let info = routes.publishInfo(topic);
    if (info && info.queues.length > 0) return info;
    await routes.update(topic, { topic: this.#createTopicKey, queueNums: this.#defaultTopicQueueNums });
    info = routes.publishInfo(topic);
    if (!info || info.queues.length === 0) {
      throw new BrokerResponseError(
        ResponseCode.TOPIC_NOT_EXIST,
        `Cannot send to topic "${topic}": the NameServer has no route for it, nor for the template topic "${this.#createTopicKey}"`,
      );
    }
    // A new broker may be in the route: let it know us before the first send lands.
    void this.#instance.heartbeatAll();
    return info;
  }

  #chooseFixedQueue(info: TopicPublishInfo, message: Message, options: SendOptions): MessageQueue | undefined {
    if (options.queue) return options.queue;
    if (options.shardingKey !== undefined) {
      return (options.selector ?? selectByHash)(info.queues, message, options.shardingKey);
    }
    return undefined;
  }

  async #sendPrepared(prepared: PreparedSend, options: SendOptions): Promise<SendResult> {
    const timeoutMs = options.timeoutMs ?? this.#sendTimeoutMs;
    const started = Date.now();
    let info = this.#instance.routes.publishInfo(prepared.topic);
    if (!info || info.queues.length === 0) info = await this.#publishInfo(prepared.topic);
    const fixed = options.queue !== undefined || options.shardingKey !== undefined;
    const source = prepared.source ?? { topic: prepared.topic, body: prepared.body };
    const fixedQueue = fixed ? this.#chooseFixedQueue(info, source, options) : undefined;
    const attempts = fixed ? 1 : 1 + this.#retryTimes;
    const brokers: string[] = [];
    let lastError: Error | undefined;
    let lastBroker: string | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const queue = fixedQueue ?? this.#fault.select(info, lastBroker);
      if (!queue) break;
      lastBroker = queue.brokerName;
      brokers.push(queue.brokerName);
      const attemptStarted = attempt === 0 ? started : Date.now();
      const remainingMs = timeoutMs - (attemptStarted - started);
      if (remainingMs <= 0) {
        lastError ??= new RemotingTimeoutError(
          `Cannot send to topic "${prepared.topic}": send timeout ${timeoutMs} ms exceeded`,
        );
        break;
      }
      try {
        const addr = this.#instance.routes.masterAddr(queue.brokerName) ?? await this.#instance.brokerAddr(queue);
        const response = await this.#invoke(addr, this.#request(prepared, queue), remainingMs, options.signal);
        const result = this.#result(response, prepared, queue, addr);
        this.#fault.record(queue.brokerName, Date.now() - attemptStarted, false);
        if (result.status !== "SEND_OK" && this.#retryNotStoreOk && attempt + 1 < attempts) {
          lastError = new BrokerResponseError(response.code, `Broker stored message with status ${result.status}`);
          continue;
        }
        return result;
      } catch (error) {
        this.#fault.record(queue.brokerName, Date.now() - attemptStarted, true);
        if (options.signal?.aborted) throw error;
        lastError = error as Error;
        const retriable = error instanceof RemotingTransportError ||
          (error instanceof BrokerResponseError && RETRIABLE_SEND_CODES.has(error.code));
        if (!retriable) throw error;
        this.#instance.logger.info("Send attempt failed; retrying", {
          topic: prepared.topic,
          broker: queue.brokerName,
          attempt: attempt + 1,
          error: errorText(error),
        });
        this.#instance.refreshRouteSoon(prepared.topic);
        if (error instanceof BrokerResponseError && error.code === ResponseCode.SYSTEM_BUSY && attempt + 1 < attempts) {
          await sleep(Math.min(BUSY_BACKOFF_MAX_MS, BUSY_BACKOFF_MS * 2 ** attempt), options.signal);
        }
      }
    }
    throw this.#finalError(prepared.topic, brokers, lastError);
  }

  #finalError(topic: string, brokers: string[], lastError: Error | undefined): Error {
    const message = `Cannot send message to topic "${topic}" after ${brokers.length} attempt(s) (brokers ${
      brokers.join(", ") || "none"
    }): ${lastError?.message ?? "no writable queue"}`;
    if (lastError instanceof BrokerResponseError) {
      return new BrokerResponseError(lastError.code, message, lastError.remark, lastError.addr, { cause: lastError });
    }
    if (lastError instanceof RemotingTimeoutError) return new RemotingTimeoutError(message, { cause: lastError });
    return new RemotingTransportError(message, { cause: lastError });
  }

  #invoke(addr: string, request: RemotingCommand, timeoutMs: number, signal?: AbortSignal): Promise<RemotingCommand> {
    const call = this.#instance.remoting.invoke(addr, request, timeoutMs);
    if (!signal) return call;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason ?? new DOMException("Send was aborted", "AbortError"));
      signal.addEventListener("abort", onAbort, { once: true });
      call.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  #request(prepared: PreparedSend, queue: MessageQueue): RemotingCommand {
    const fields: ExtFields = {
      a: this.group,
      b: prepared.topic,
      c: this.#createTopicKey,
      d: String(this.#defaultTopicQueueNums),
      e: String(queue.queueId),
      f: String(prepared.sysFlag),
      g: String(Date.now()),
      h: String(prepared.flag),
      i: prepared.properties,
      j: String(prepared.reconsumeTimes ?? 0),
      k: "false",
      m: prepared.batch ? "true" : "false",
      n: queue.brokerName,
    };
    if (prepared.maxReconsumeTimes !== undefined) fields.l = String(prepared.maxReconsumeTimes);
    return createRequest(prepared.batch ? RequestCode.SEND_BATCH_MESSAGE : RequestCode.SEND_MESSAGE_V2, fields, {
      body: prepared.body,
    });
  }

  #result(response: RemotingCommand, prepared: PreparedSend, queue: MessageQueue, addr: string): SendResult {
    const status = SEND_STATUS_BY_CODE.get(response.code);
    if (status === undefined) throw responseError(response, `send message to topic "${prepared.topic}"`, addr);
    const ext = response.extFields;
    const queueId = ext.queueId !== undefined ? Number(ext.queueId) : queue.queueId;
    return {
      status,
      msgId: prepared.msgId,
      offsetMsgId: ext.msgId ?? "",
      queue: queueId === queue.queueId ? queue : { topic: queue.topic, brokerName: queue.brokerName, queueId },
      queueOffset: Number(ext.queueOffset ?? -1),
      regionId: ext.MSG_REGION,
      traceOn: ext.TRACE_ON !== "false",
    };
  }
}
