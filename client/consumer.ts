/**
 * The push consumer (Java's `DefaultMQPushConsumer`): subscribes to topics with tag
 * expressions, takes its share of the queues (clustering) or all of them (broadcasting), runs a
 * long-polling pull loop per queue, and hands messages to a handler or a `for await` loop.
 *
 * - **Flow control**: a queue's pull loop pauses while it holds more than
 *   `pullThresholdForQueue` messages or `pullThresholdSizeForQueueMiB`, or (concurrent mode)
 *   spans more than `consumeConcurrentlyMaxSpan` offsets.
 * - **Concurrent consumption**: at most `consumeConcurrency` handlers run at once. A failure is
 *   sent back to the broker (CONSUMER_SEND_MSG_BACK) for redelivery after a delay; if that call
 *   fails the message is re-sent to `%RETRY%<group>` as a normal message; if that fails too it
 *   is retried locally after 5 s. After `maxReconsumeTimes` redeliveries the broker moves it to
 *   `%DLQ%<group>`.
 * - **Orderly consumption** (`orderly: true`): queues are locked at the broker (LOCK_BATCH_MQ,
 *   renewed every 20 s), each queue is consumed one message at a time, and a failure suspends
 *   the queue for `suspendCurrentQueueTimeMs` and retries the same message locally.
 * - **Offsets** are committed every 5 s and at shutdown: to the broker when clustering, to a
 *   local file when broadcasting.
 *
 * Runtime-neutral; imports `protocol/` and the client's own files.
 *
 * @module
 */

import { MASTER_ID } from "../protocol/bodies.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { HandOff, Periodic, Semaphore, sleep } from "./_async.ts";
import { errorText } from "./_log.ts";
import {
  ClientInstance,
  type ClientOptions,
  type ConsumeFromWhere,
  type ConsumerMember,
  type DirectConsumeResult,
  type MessageModel,
  positiveInteger,
  PullSysFlag,
} from "./client_instance.ts";
import { BrokerResponseError, ClientClosedError } from "./errors.ts";
import {
  checkName,
  decodePulledMessages,
  DELAY_LEVEL_MAX,
  type MessageQueue,
  queueJson,
  queueKey,
  type ReceivedMessage,
  RETRY_TOPIC_PREFIX,
  retryTopic,
} from "./message.ts";
import { OFFSET_NONE, type OffsetStore, offsetStoreFor } from "./offset_store.ts";
import { ProcessQueue } from "./process_queue.ts";
import { Producer } from "./producer.ts";
import { allocateAveragely, type AllocateStrategy, rebalanceTopics } from "./rebalance.ts";
import { parseSubscription, type Subscription, subscriptionJson } from "./subscription.ts";

/** What a handler reports. */
export type ConsumeResult = "CONSUME_SUCCESS" | "RECONSUME_LATER" | "SUSPEND_CURRENT_QUEUE_A_MOMENT";

/** Per-message context given to a handler. */
export interface ConsumeContext {
  /** The queue the message came from. */
  readonly queue: MessageQueue;
  /**
   * Concurrent mode: delay level of the redelivery if this consumption fails. 0 (default) lets
   * the broker choose (`3 + reconsumeTimes`: 10 s, 30 s, 1 min…); -1 sends it straight to the DLQ.
   */
  delayLevel: number;
  /** Orderly mode: how long the queue is suspended if this consumption fails. */
  suspendMs: number;
  /** Aborted when the consumer shuts down. */
  readonly signal: AbortSignal;
}

/**
 * Consumes one message. Returning nothing, `true` or `"CONSUME_SUCCESS"` acknowledges it;
 * returning `false`, `"RECONSUME_LATER"` or `"SUSPEND_CURRENT_QUEUE_A_MOMENT"`, or throwing,
 * asks for redelivery.
 */
export type MessageHandler = (
  message: ReceivedMessage,
  context: ConsumeContext,
) => void | boolean | ConsumeResult | Promise<void | boolean | ConsumeResult>;

/** Options for {@linkcode PushConsumer}. */
export interface PushConsumerOptions extends ClientOptions {
  /** Consumer group. */
  group: string;
  /** `CLUSTERING` (default: the group shares the queues) or `BROADCASTING` (every member gets everything). */
  messageModel?: MessageModel;
  /** Where a queue without a committed offset starts (default `CONSUME_FROM_LAST_OFFSET`). */
  consumeFromWhere?: ConsumeFromWhere;
  /** For `CONSUME_FROM_TIMESTAMP`: ms since the epoch (default: 30 minutes ago). */
  consumeTimestamp?: number;
  /** Consume each queue in order, one message at a time, with broker-side queue locks. */
  orderly?: boolean;
  /** Handlers running at once (Java `consumeThreadMax`: 20). */
  consumeConcurrency?: number;
  /** Messages per pull (32). */
  pullBatchSize?: number;
  /** A queue stops pulling while it holds more messages than this (1000). */
  pullThresholdForQueue?: number;
  /** … or more body MiB than this (100). */
  pullThresholdSizeForQueueMiB?: number;
  /** Concurrent mode: … or spans more offsets than this (2000). */
  consumeConcurrentlyMaxSpan?: number;
  /** Redeliveries before the DLQ; -1 (default) means 16 (concurrent) or unlimited (orderly). */
  maxReconsumeTimes?: number;
  /** Orderly mode: default suspension after a failure (1000 ms). */
  suspendCurrentQueueTimeMs?: number;
  /** Queue allocation (default: {@linkcode allocateAveragely}, as Java's default). */
  allocateStrategy?: AllocateStrategy;
  /** Rebalance period (20 s). */
  rebalanceIntervalMs?: number;
  /** Offset commit period (5 s). */
  persistOffsetIntervalMs?: number;
  /** Broker long-poll hold (15 s); the pull request timeout is this plus 15 s. */
  brokerSuspendMaxMs?: number;
  /** Wait before pulling again after an error (3 s). */
  pullDelayOnErrorMs?: number;
  /** Broadcasting: root directory of the local offset files (default `~/.rocketmq_offsets`). */
  offsetStoreDir?: string;
  /** How long `shutdown()` waits for running handlers (10 s). */
  shutdownTimeoutMs?: number;
  /** The handler; without one, consume with `for await (const m of consumer)`. */
  handler?: MessageHandler;
  /** Aborting shuts the consumer down. */
  signal?: AbortSignal;
}

/** Delay before a pull loop retries when the queue holds too much (Java: 50 ms). */
const FLOW_CONTROL_DELAY_MS = 50;
/** Delay after the broker answered FLOW_CONTROL (Java: 20 ms). */
const BROKER_FLOW_CONTROL_DELAY_MS = 20;
/** Delay while paused (Java: 1 s). */
const PAUSED_DELAY_MS = 1000;
/** Delay after a pull hit a subscription the broker does not have yet (heartbeat in flight). */
const SUBSCRIPTION_MISSING_DELAY_MS = 500;
/** Local retry of a message whose send-back failed (Java: 5 s). */
const LOCAL_RETRY_DELAY_MS = 5000;
/** After OFFSET_ILLEGAL, the queue is re-created after this long (Java: 10 s). */
const OFFSET_ILLEGAL_RECREATE_MS = 10_000;
/** Orderly: broker lock renewal period (Java `REBALANCE_LOCK_INTERVAL`: 20 s). */
const LOCK_RENEW_INTERVAL_MS = 20_000;
/** Orderly: retry of a queue lock that failed (Java: 3 s). */
const LOCK_RETRY_DELAY_MS = 3000;

type Outcome =
  | { kind: "success" }
  | { kind: "failure"; delayLevel: number; suspendMs: number }
  | { kind: "abandoned" };

interface Delivery {
  message: ReceivedMessage;
  context: ConsumeContext;
  resolve: (outcome: Outcome) => void;
}

interface QueueEntry {
  pq: ProcessQueue;
  loop: Promise<void>;
  /** Handlers of this queue running now (orderly: at most one). */
  active: Set<Promise<unknown>>;
}

interface TopicStats {
  pullRtMs: number;
  pulls: number;
  pulledMessages: number;
  consumeRtMs: number;
  consumeOk: number;
  consumeFailed: number;
  since: number;
}

function isSuccess(result: void | boolean | ConsumeResult): boolean {
  return result === undefined || result === true || result === "CONSUME_SUCCESS";
}

/**
 * A push consumer.
 *
 * @example With a handler
 * ```ts ignore
 * import { PushConsumer } from "./consumer.ts";
 *
 * const consumer = new PushConsumer({
 *   nameServer: "127.0.0.1:9876",
 *   group: "billing",
 *   handler: async (message) => {
 *     console.log(message.topic, message.tags, message.text);
 *   },
 * });
 * consumer.subscribe("orders", "paid || refunded");
 * await consumer.start();
 * // … later
 * await consumer.shutdown();
 * ```
 *
 * @example As an async iterable
 * ```ts ignore
 * import { PushConsumer } from "./consumer.ts";
 *
 * await using consumer = new PushConsumer({ nameServer: "127.0.0.1:9876", group: "audit" });
 * consumer.subscribe("orders");
 * await consumer.start();
 * for await (const message of consumer) {
 *   if (!store(message)) consumer.nack(message); // redeliver later
 *   // leaving the iteration (next message or break) acknowledges it
 * }
 * ```
 */
export class PushConsumer implements ConsumerMember, AsyncIterable<ReceivedMessage> {
  /** The consumer group. */
  readonly group: string;
  readonly #options: PushConsumerOptions;
  readonly #instance: ClientInstance;
  readonly #model: MessageModel;
  readonly #orderly: boolean;
  readonly #consumeFromWhere: ConsumeFromWhere;
  readonly #consumeTimestamp: number;
  readonly #pullBatchSize: number;
  readonly #pullThresholdForQueue: number;
  readonly #pullThresholdBytes: number;
  readonly #maxSpan: number;
  readonly #maxReconsumeTimes: number;
  readonly #suspendMs: number;
  readonly #strategy: AllocateStrategy;
  readonly #suspendTimeoutMs: number;
  readonly #pullDelayOnErrorMs: number;
  readonly #shutdownTimeoutMs: number;
  readonly #workers: Semaphore;
  readonly #store: OffsetStore;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #table = new Map<string, QueueEntry>();
  readonly #pullFromWhichNode = new Map<string, number>();
  readonly #deliveries = new HandOff<Delivery>();
  readonly #nacked = new WeakMap<ReceivedMessage, number>();
  readonly #stop = new AbortController();
  readonly #rebalancer: Periodic;
  readonly #persister: Periodic;
  readonly #locker: Periodic;
  readonly #stats = new Map<string, TopicStats>();
  readonly #active = new Set<Promise<unknown>>();
  readonly #innerProducer: Producer;
  #rebalanceAgain = false;
  #state: "created" | "starting" | "running" | "closing" | "closed" = "created";
  #paused = false;
  #startedAt = 0;

  /**
   * Creates a consumer; call `subscribe()` and `start()`.
   *
   * @throws {TypeError} for a bad group name or NameServer list.
   * @throws {RangeError} for an out-of-range numeric option.
   */
  constructor(options: PushConsumerOptions) {
    checkName(options.group, "group");
    this.group = options.group;
    this.#options = options;
    this.#model = options.messageModel ?? "CLUSTERING";
    if (this.#model !== "CLUSTERING" && this.#model !== "BROADCASTING") {
      throw new TypeError(`Invalid option messageModel: expected CLUSTERING or BROADCASTING, got "${this.#model}"`);
    }
    this.#instance = new ClientInstance(options, {
      defaultInstanceName: this.#model === "BROADCASTING" ? "DEFAULT" : undefined,
    });
    this.#orderly = options.orderly ?? false;
    this.#consumeFromWhere = options.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET";
    this.#consumeTimestamp = options.consumeTimestamp ?? Date.now() - 30 * 60 * 1000;
    this.#pullBatchSize = positiveInteger(options.pullBatchSize ?? 32, "pullBatchSize", 1024);
    this.#pullThresholdForQueue = positiveInteger(
      options.pullThresholdForQueue ?? 1000,
      "pullThresholdForQueue",
      65535,
    );
    this.#pullThresholdBytes =
      positiveInteger(options.pullThresholdSizeForQueueMiB ?? 100, "pullThresholdSizeForQueueMiB", 1024) *
      1024 * 1024;
    this.#maxSpan = positiveInteger(options.consumeConcurrentlyMaxSpan ?? 2000, "consumeConcurrentlyMaxSpan", 65535);
    const maxReconsume = options.maxReconsumeTimes ?? -1;
    if (!Number.isInteger(maxReconsume) || maxReconsume < -1) {
      throw new RangeError(`Invalid option maxReconsumeTimes: expected -1 or more, got ${maxReconsume}`);
    }
    this.#maxReconsumeTimes = maxReconsume === -1 ? (this.#orderly ? 0x7fffffff : 16) : maxReconsume;
    this.#suspendMs = positiveInteger(options.suspendCurrentQueueTimeMs ?? 1000, "suspendCurrentQueueTimeMs");
    this.#strategy = options.allocateStrategy ?? allocateAveragely;
    this.#suspendTimeoutMs = positiveInteger(options.brokerSuspendMaxMs ?? 15000, "brokerSuspendMaxMs");
    this.#pullDelayOnErrorMs = positiveInteger(options.pullDelayOnErrorMs ?? 3000, "pullDelayOnErrorMs");
    this.#shutdownTimeoutMs = positiveInteger(options.shutdownTimeoutMs ?? 10000, "shutdownTimeoutMs");
    this.#workers = new Semaphore(positiveInteger(options.consumeConcurrency ?? 20, "consumeConcurrency", 1024));
    this.#store = offsetStoreFor(this.#model, this.#instance, this.group, options.offsetStoreDir);
    const warn = (what: string) => (error: unknown) =>
      this.#instance.logger.warn(what, { group: this.group, error: errorText(error) });
    this.#rebalancer = new Periodic(
      positiveInteger(options.rebalanceIntervalMs ?? 20000, "rebalanceIntervalMs"),
      () => this.#rebalanceLoop(),
      warn("Rebalance failed"),
    );
    this.#persister = new Periodic(
      positiveInteger(options.persistOffsetIntervalMs ?? 5000, "persistOffsetIntervalMs"),
      () => this.#persistOffsets(false),
      warn("Offset commit failed"),
    );
    this.#locker = new Periodic(LOCK_RENEW_INTERVAL_MS, () => this.#lockAll(), warn("Queue lock renewal failed"));
    this.#innerProducer = new Producer({ ...options, group: "CLIENT_INNER_PRODUCER" }, { instance: this.#instance });
    this.#instance.registerConsumer(this);
    this.#instance.onRouteChange((topic) => {
      if (this.#state === "running" && this.#subscriptions.has(topic)) this.rebalanceNow();
    });
    if (options.signal) {
      if (options.signal.aborted) throw new ClientClosedError("Cannot create consumer: the signal is already aborted");
      options.signal.addEventListener("abort", () => void this.shutdown(), { once: true });
    }
  }

  /** This client's id (`ip@instance`). */
  get clientId(): string {
    return this.#instance.clientId;
  }

  /** Queues this member consumes now. */
  assignedQueues(): MessageQueue[] {
    return [...this.#table.values()].map((e) => e.pq.queue);
  }

  /**
   * Subscribes to `topic`, keeping messages whose tag matches `expression` (`"*"`, or tags joined
   * by `||`). Replaces an earlier subscription of the topic. May be called before or after
   * `start()`.
   *
   * @throws {TypeError} for an invalid topic name.
   */
  subscribe(topic: string, expression = "*"): this {
    checkName(topic, "topic");
    this.#subscriptions.set(topic, parseSubscription(topic, expression));
    if (this.#state === "running") void this.#afterSubscriptionChange();
    return this;
  }

  /** Stops consuming `topic`. */
  unsubscribe(topic: string): this {
    this.#subscriptions.delete(topic);
    if (this.#state === "running") void this.#afterSubscriptionChange();
    return this;
  }

  /** Pauses every pull loop (messages already pulled are still consumed). */
  pause(): void {
    this.#paused = true;
  }

  /** Resumes pulling. */
  resume(): void {
    this.#paused = false;
  }

  /**
   * Starts consuming: loads offsets, sends heartbeats to the brokers of the subscribed topics,
   * runs the first rebalance, and starts the timers.
   *
   * @throws {ClientClosedError} after `shutdown()`.
   * @throws {TypeError} when started twice.
   */
  async start(): Promise<void> {
    this.#instance.assertOpen("start consumer");
    if (this.#state !== "created") {
      throw new TypeError(`Cannot start consumer of group "${this.group}": it was already started`);
    }
    this.#state = "starting";
    this.#startedAt = Date.now();
    if (this.#model === "CLUSTERING" && !this.#subscriptions.has(retryTopic(this.group))) {
      this.#subscriptions.set(retryTopic(this.group), parseSubscription(retryTopic(this.group), "*"));
    }
    await this.#store.load();
    this.#instance.start();
    await this.#refreshRoutes();
    await this.#instance.heartbeatAll();
    // The broker creates %RETRY%<group> on the first heartbeat; its route exists only now.
    await this.#refreshRoutes();
    this.#state = "running";
    await this.#rebalancer.trigger();
    this.#persister.start();
    if (this.#orderly && this.#model === "CLUSTERING") this.#locker.start();
  }

  /**
   * Stops pulling, lets running handlers finish (up to `shutdownTimeoutMs`), commits offsets
   * (awaiting the broker), unlocks orderly queues, unregisters from the brokers, and closes
   * the connections. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.#state === "closing" || this.#state === "closed") return;
    const wasRunning = this.#state === "running" || this.#state === "starting";
    this.#state = "closing";
    this.#stop.abort(new ClientClosedError(`Consumer of group "${this.group}" was shut down`));
    await Promise.all([this.#rebalancer.stop(), this.#persister.stop(), this.#locker.stop()]);
    for (const delivery of this.#deliveries.close()) delivery.resolve({ kind: "abandoned" });
    this.#workers.close(new ClientClosedError("Consumer is shutting down"));
    await this.#waitForHandlers();
    if (wasRunning) {
      await this.#persistOffsets(true);
      if (this.#orderly && this.#model === "CLUSTERING") await this.#unlockAll();
    }
    for (const entry of this.#table.values()) entry.pq.dropped = true;
    await this.#innerProducer.shutdown();
    await this.#instance.shutdown();
    await Promise.all([...this.#table.values()].map((e) => e.loop));
    this.#table.clear();
    this.#state = "closed";
  }

  /** Same as {@linkcode shutdown}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /**
   * Messages as an async iterable (only without a `handler`). A message counts as consumed when
   * the loop asks for the next one or leaves; call {@linkcode nack} first to have it
   * redelivered instead. Iteration ends at shutdown or when `signal` aborts.
   *
   * @throws {TypeError} when the consumer has a handler.
   */
  messages(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<ReceivedMessage> {
    if (this.#options.handler) {
      throw new TypeError(`Cannot iterate consumer of group "${this.group}": it was created with a handler`);
    }
    let current: Delivery | undefined;
    const finish = () => {
      if (!current) return;
      const delayLevel = this.#nacked.get(current.message);
      current.resolve(
        delayLevel === undefined
          ? { kind: "success" }
          : { kind: "failure", delayLevel, suspendMs: current.context.suspendMs },
      );
      current = undefined;
    };
    const iterator: AsyncIterableIterator<ReceivedMessage> = {
      next: async () => {
        finish();
        const delivery = await this.#deliveries.take(Infinity, options.signal);
        if (!delivery) return { done: true, value: undefined };
        current = delivery;
        return { done: false, value: delivery.message };
      },
      return: () => {
        finish();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Same as `messages()`. */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    return this.messages();
  }

  /**
   * Marks a message taken from the iterator as failed: it is redelivered (concurrent mode: via
   * the retry topic after `delayLevel`, 0 = broker default; orderly: after a local suspension).
   */
  nack(message: ReceivedMessage, delayLevel = 0): void {
    this.#nacked.set(message, delayLevel);
  }

  /** Rebalances as soon as possible (also what NOTIFY_CONSUMER_IDS_CHANGED does). */
  rebalanceNow(): void {
    if (this.#state !== "running") return;
    this.#rebalanceAgain = true;
    void this.#rebalancer.trigger();
  }

  // ---- ConsumerMember (heartbeats and broker requests) ----

  /** @internal */
  heartbeatData(): Record<string, unknown> {
    return {
      consumeFromWhere: this.#consumeFromWhere,
      consumeType: "CONSUME_PASSIVELY",
      groupName: this.group,
      messageModel: this.#model,
      subscriptionDataSet: [...this.#subscriptions.values()].map(subscriptionJson),
      unitMode: false,
    };
  }

  /** @internal */
  topics(): string[] {
    return [...this.#subscriptions.keys()];
  }

  /** @internal */
  runningInfo(): Record<string, unknown> {
    const mqTable = new Map<Record<string, unknown>, Record<string, unknown>>();
    const sorted = [...this.#table.values()].sort((a, b) => queueKey(a.pq.queue) < queueKey(b.pq.queue) ? -1 : 1);
    for (const { pq } of sorted) {
      const committed = this.#store.snapshot(pq.queue.topic).find(([q]) => queueKey(q) === queueKey(pq.queue));
      mqTable.set(queueJson(pq.queue), pq.info(committed?.[1] ?? OFFSET_NONE));
    }
    const statusTable: Record<string, unknown> = {};
    for (const topic of this.#subscriptions.keys()) statusTable[topic] = this.#statusOf(topic);
    return {
      mqTable,
      properties: {
        PROP_CONSUMEORDERLY: String(this.#orderly),
        PROP_CONSUMER_START_TIMESTAMP: String(this.#startedAt),
        PROP_CONSUME_TYPE: "CONSUME_PASSIVELY",
        PROP_THREADPOOL_CORE_SIZE: String(this.#options.consumeConcurrency ?? 20),
        consumeFromWhere: this.#consumeFromWhere,
        consumerGroup: this.group,
        messageModel: this.#model,
        pullBatchSize: String(this.#pullBatchSize),
        pullThresholdForQueue: String(this.#pullThresholdForQueue),
        maxReconsumeTimes: String(this.#maxReconsumeTimes),
      },
      statusTable,
      subscriptionSet: [...this.#subscriptions.values()].map(subscriptionJson),
    };
  }

  /** @internal */
  async consumeDirectly(
    message: ReceivedMessage,
  ): Promise<{ result: DirectConsumeResult; remark?: string; order: boolean }> {
    const handler = this.#options.handler;
    if (!handler) {
      return { result: "CR_LATER", remark: "the consumer has no handler (iterator mode)", order: this.#orderly };
    }
    const context = this.#context(message.queue);
    try {
      const result = await handler(message, context);
      return { result: isSuccess(result) ? "CR_SUCCESS" : "CR_LATER", order: this.#orderly };
    } catch (error) {
      return { result: "CR_THROW_EXCEPTION", remark: errorText(error), order: this.#orderly };
    }
  }

  /** @internal */
  async resetOffset(topic: string, offsets: Map<string, { queue: MessageQueue; queueOffset: number }>): Promise<void> {
    this.pause();
    try {
      const affected: QueueEntry[] = [];
      for (const [key, entry] of this.#table) {
        const queue = entry.pq.queue;
        if (queue.topic !== topic || !offsets.has(`${queue.brokerName}@${queue.queueId}`)) continue;
        entry.pq.dropped = true;
        entry.pq.clear();
        this.#table.delete(key);
        affected.push(entry);
      }
      await Promise.all(affected.map((e) => this.#settle(e)));
      for (const { queue, queueOffset } of offsets.values()) {
        this.#store.update(queue, queueOffset, false);
        try {
          await this.#store.persist(queue);
        } catch (error) {
          this.#instance.logger.warn("Cannot commit reset offset", { queue, error: errorText(error) });
        }
      }
    } finally {
      this.resume();
    }
    this.rebalanceNow();
  }

  /** @internal */
  consumerStatus(topic: string): Array<[MessageQueue, number]> {
    return this.#store.snapshot(topic);
  }

  // ---- rebalance ----

  async #afterSubscriptionChange(): Promise<void> {
    try {
      await this.#refreshRoutes();
      await this.#instance.heartbeatAll();
      this.rebalanceNow();
    } catch (error) {
      this.#instance.logger.warn("Cannot apply subscription change", { group: this.group, error: errorText(error) });
    }
  }

  async #refreshRoutes(): Promise<void> {
    await Promise.all([...this.#subscriptions.keys()].map(async (topic) => {
      try {
        const route = await this.#instance.routes.update(topic);
        if (!route && !topic.startsWith(RETRY_TOPIC_PREFIX)) {
          this.#instance.logger.warn("Subscribed topic has no route yet", { group: this.group, topic });
        }
      } catch (error) {
        this.#instance.logger.warn("Cannot fetch topic route", { topic, error: errorText(error) });
      }
    }));
  }

  async #rebalanceLoop(): Promise<void> {
    // A notification that arrives during a round asks for one more round: the ids may have changed.
    for (let round = 0; round < 3; round++) {
      this.#rebalanceAgain = false;
      await this.#rebalance();
      if (!this.#rebalanceAgain || this.#state !== "running") return;
    }
  }

  async #rebalance(): Promise<void> {
    if (this.#state !== "running") return;
    await rebalanceTopics(
      this.#instance,
      { group: this.group, clientId: this.clientId, model: this.#model, strategy: this.#strategy },
      this.#subscriptions.keys(),
      (topic, assigned) => this.#applyAssignment(topic, assigned),
    );
    for (const [key, entry] of this.#table) {
      if (!this.#subscriptions.has(entry.pq.queue.topic)) await this.#removeQueue(key, entry);
    }
  }

  async #applyAssignment(topic: string, assigned: MessageQueue[]): Promise<void> {
    const wanted = new Map(assigned.map((q) => [queueKey(q), q]));
    let changed = false;
    for (const [key, entry] of this.#table) {
      if (entry.pq.queue.topic !== topic) continue;
      if (!wanted.has(key) || entry.pq.isPullExpired()) {
        if (wanted.has(key)) {
          this.#instance.logger.warn("Pull loop idle too long; recreating the queue", { queue: entry.pq.queue });
        }
        await this.#removeQueue(key, entry);
        changed = true;
      }
    }
    for (const [key, queue] of wanted) {
      if (this.#table.has(key) || this.#state !== "running") continue;
      if (this.#orderly && this.#model === "CLUSTERING" && !(await this.#lockQueue(queue))) continue;
      this.#store.remove(queue);
      const queueOffset = await this.#computePullFromWhere(queue);
      if (queueOffset < 0 || this.#state !== "running") continue;
      this.#store.update(queue, queueOffset, false);
      const pq = new ProcessQueue(queue);
      if (this.#orderly && this.#model === "CLUSTERING") {
        pq.locked = true;
        pq.lastLockTimestamp = Date.now();
      }
      const entry: QueueEntry = { pq, loop: Promise.resolve(), active: new Set() };
      this.#table.set(key, entry);
      entry.loop = this.#pullLoop(entry, queueOffset);
      changed = true;
      this.#instance.logger.info("Queue assigned", { group: this.group, queue, queueOffset });
    }
    if (changed) void this.#instance.heartbeatAll();
  }

  /** Stops a queue, waits for its handlers (bounded), commits its offset and unlocks it. */
  async #removeQueue(key: string, entry: QueueEntry): Promise<void> {
    entry.pq.dropped = true;
    this.#table.delete(key);
    await this.#settle(entry);
    const queue = entry.pq.queue;
    try {
      await this.#store.persist(queue);
    } catch (error) {
      this.#instance.logger.warn("Cannot commit offset of removed queue", { queue, error: errorText(error) });
    }
    this.#store.remove(queue);
    if (this.#orderly && this.#model === "CLUSTERING") {
      try {
        const addr = await this.#instance.brokerAddr(queue);
        await this.#instance.unlockBatch(addr, this.group, [queue], true);
      } catch (error) {
        this.#instance.logger.info("Cannot unlock removed queue", { queue, error: errorText(error) });
      }
    }
    this.#instance.logger.info("Queue released", { group: this.group, queue });
  }

  /** Waits for a dropped queue's handlers, at most `shutdownTimeoutMs`. */
  async #settle(entry: QueueEntry): Promise<void> {
    if (entry.active.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...entry.active]),
      new Promise((resolve) => timer = setTimeout(resolve, this.#shutdownTimeoutMs)),
    ]);
    clearTimeout(timer);
  }

  /** Java's `computePullFromWhereWithException`; -1 when the offset cannot be determined now. */
  async #computePullFromWhere(queue: MessageQueue): Promise<number> {
    const stored = await this.#store.read(queue, "store");
    if (stored >= 0) return stored;
    if (stored !== OFFSET_NONE) return -1;
    const retry = queue.topic.startsWith(RETRY_TOPIC_PREFIX);
    try {
      switch (this.#consumeFromWhere) {
        case "CONSUME_FROM_FIRST_OFFSET":
          return 0;
        case "CONSUME_FROM_TIMESTAMP":
          return retry
            ? await this.#instance.maxOffset(queue)
            : await this.#instance.searchOffset(queue, this.#consumeTimestamp);
        default:
          return retry ? 0 : await this.#instance.maxOffset(queue);
      }
    } catch (error) {
      this.#instance.logger.warn("Cannot find where to start consuming", { queue, error: errorText(error) });
      return -1;
    }
  }

  // ---- pulling ----

  async #pullLoop(entry: QueueEntry, initialOffset: number): Promise<void> {
    const state = { nextOffset: initialOffset, previouslyLocked: false };
    const signal = this.#stop.signal;
    while (!entry.pq.dropped && !signal.aborted) {
      let delayMs: number;
      try {
        delayMs = await this.#pullOnce(entry, state);
      } catch (error) {
        delayMs = this.#pullErrorDelay(entry.pq, error);
      }
      if (delayMs > 0) await sleep(delayMs, signal);
    }
  }

  #pullErrorDelay(pq: ProcessQueue, error: unknown): number {
    if (pq.dropped || this.#stop.signal.aborted) return 0;
    if (error instanceof BrokerResponseError) {
      if (error.code === ResponseCode.FLOW_CONTROL) return BROKER_FLOW_CONTROL_DELAY_MS;
      if (error.code === ResponseCode.SUBSCRIPTION_NOT_EXIST || error.code === ResponseCode.SUBSCRIPTION_NOT_LATEST) {
        void this.#instance.heartbeatAll();
        return SUBSCRIPTION_MISSING_DELAY_MS;
      }
    }
    if (!pq.queue.topic.startsWith(RETRY_TOPIC_PREFIX)) {
      this.#instance.logger.warn("Pull failed", { queue: pq.queue, error: errorText(error) });
    }
    this.#instance.refreshRouteSoon(pq.queue.topic);
    return this.#pullDelayOnErrorMs;
  }

  /** One pull; returns the delay before the next. */
  async #pullOnce(entry: QueueEntry, state: { nextOffset: number; previouslyLocked: boolean }): Promise<number> {
    const pq = entry.pq;
    const queue = pq.queue;
    pq.lastPullTimestamp = Date.now();
    if (this.#paused) return PAUSED_DELAY_MS;
    if (pq.count > this.#pullThresholdForQueue || pq.bytes > this.#pullThresholdBytes) return FLOW_CONTROL_DELAY_MS;
    if (!this.#orderly && pq.maxSpan > this.#maxSpan) return FLOW_CONTROL_DELAY_MS;
    if (this.#orderly && this.#model === "CLUSTERING") {
      if (!pq.locked) return this.#pullDelayOnErrorMs;
      if (!state.previouslyLocked) {
        const queueOffset = await this.#computePullFromWhere(queue);
        if (queueOffset < 0) return this.#pullDelayOnErrorMs;
        state.previouslyLocked = true;
        state.nextOffset = queueOffset;
      }
    }
    const subscription = this.#subscriptions.get(queue.topic);
    if (!subscription) return this.#pullDelayOnErrorMs;
    let commitOffset = 0;
    if (this.#model === "CLUSTERING") commitOffset = Math.max(0, await this.#store.read(queue, "memory"));
    const suggested = this.#pullFromWhichNode.get(queueKey(queue)) ?? MASTER_ID;
    let node = this.#instance.routes.subscribeAddr(queue.brokerName, suggested);
    if (!node) {
      await this.#instance.routes.update(queue.topic);
      node = this.#instance.routes.subscribeAddr(queue.brokerName, suggested);
    }
    if (!node) throw new Error(`Cannot pull ${queueKey(queue)}: broker "${queue.brokerName}" has no address`);
    let sysFlag = PullSysFlag.SUSPEND;
    if (commitOffset > 0 && !node.slave) sysFlag |= PullSysFlag.COMMIT_OFFSET;
    const started = Date.now();
    const result = await this.#instance.pull(node.addr, {
      consumerGroup: this.group,
      queue,
      queueOffset: state.nextOffset,
      maxMsgNums: this.#pullBatchSize,
      sysFlag,
      commitOffset,
      suspendTimeoutMillis: this.#suspendTimeoutMs,
      subVersion: subscription.subVersion,
      expressionType: "TAG",
    }, this.#suspendTimeoutMs + 15000);
    this.#pullFromWhichNode.set(queueKey(queue), result.suggestWhichBrokerId);
    if (pq.dropped || this.#stop.signal.aborted) return 0;
    const stats = this.#statsOf(queue.topic);
    stats.pulls++;
    stats.pullRtMs += Date.now() - started;
    switch (result.status) {
      case "FOUND": {
        state.nextOffset = result.nextBeginOffset;
        const messages = result.body
          ? decodePulledMessages(result.body, {
            brokerName: queue.brokerName,
            minOffset: result.minOffset,
            maxOffset: result.maxOffset,
            tags: subscription.tags,
            group: this.group,
          })
          : [];
        if (messages.length === 0) {
          if (pq.count === 0) this.#store.update(queue, state.nextOffset, true);
          return 0;
        }
        stats.pulledMessages += messages.length;
        pq.put(messages);
        this.#dispatch(entry, messages);
        return 0;
      }
      case "NO_NEW_MSG":
      case "NO_MATCHED_MSG":
        state.nextOffset = result.nextBeginOffset;
        // Java's correctTagsOffset: nothing held, so everything up to here is consumed.
        if (pq.count === 0) this.#store.update(queue, state.nextOffset, true);
        return 0;
      case "OFFSET_ILLEGAL":
        this.#instance.logger.warn("Pull offset is illegal; re-creating the queue", {
          queue,
          requested: state.nextOffset,
          nextBeginOffset: result.nextBeginOffset,
        });
        state.nextOffset = result.nextBeginOffset;
        pq.dropped = true;
        void this.#recreateAfterIllegalOffset(entry, result.nextBeginOffset);
        return 0;
    }
  }

  async #recreateAfterIllegalOffset(entry: QueueEntry, queueOffset: number): Promise<void> {
    await sleep(OFFSET_ILLEGAL_RECREATE_MS, this.#stop.signal);
    if (this.#stop.signal.aborted) return;
    const queue = entry.pq.queue;
    this.#store.update(queue, queueOffset, false);
    try {
      await this.#store.persist(queue);
    } catch (error) {
      this.#instance.logger.warn("Cannot commit corrected offset", { queue, error: errorText(error) });
    }
    const key = queueKey(queue);
    if (this.#table.get(key) === entry) this.#table.delete(key);
    this.rebalanceNow();
  }

  // ---- consuming ----

  #dispatch(entry: QueueEntry, messages: ReceivedMessage[]): void {
    if (this.#orderly) {
      if (!entry.pq.consuming) {
        entry.pq.consuming = true;
        this.#track(entry, this.#orderlyLoop(entry));
      }
      return;
    }
    for (const message of messages) this.#track(entry, this.#consumeConcurrently(entry, message));
  }

  #track(entry: QueueEntry, task: Promise<unknown>): void {
    entry.active.add(task);
    this.#active.add(task);
    task.finally(() => {
      entry.active.delete(task);
      this.#active.delete(task);
    });
  }

  async #waitForHandlers(): Promise<void> {
    if (this.#active.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settled = await Promise.race([
      Promise.allSettled([...this.#active]).then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), this.#shutdownTimeoutMs)),
    ]);
    clearTimeout(timer);
    if (!settled) {
      this.#instance.logger.warn("Handlers still running at shutdown; their messages will be redelivered", {
        group: this.group,
        running: this.#active.size,
      });
    }
  }

  #context(queue: MessageQueue): ConsumeContext {
    return { queue, delayLevel: 0, suspendMs: this.#suspendMs, signal: this.#stop.signal };
  }

  /** Runs the handler (or hands the message to the iterator) and maps the result. */
  async #invokeHandler(message: ReceivedMessage, context: ConsumeContext): Promise<Outcome> {
    const handler = this.#options.handler;
    const started = Date.now();
    let outcome: Outcome;
    if (!handler) {
      if (this.#deliveries.closed) return { kind: "abandoned" };
      outcome = await new Promise<Outcome>((resolve) => this.#deliveries.push({ message, context, resolve }));
    } else {
      try {
        const result = await handler(message, context);
        outcome = isSuccess(result)
          ? { kind: "success" }
          : { kind: "failure", delayLevel: context.delayLevel, suspendMs: context.suspendMs };
      } catch (error) {
        this.#instance.logger.warn("Handler threw; the message will be redelivered", {
          group: this.group,
          msgId: message.msgId,
          error: errorText(error),
        });
        outcome = { kind: "failure", delayLevel: context.delayLevel, suspendMs: context.suspendMs };
      }
    }
    const stats = this.#statsOf(message.topic);
    stats.consumeRtMs += Date.now() - started;
    if (outcome.kind === "success") stats.consumeOk++;
    else if (outcome.kind === "failure") stats.consumeFailed++;
    return outcome;
  }

  async #consumeConcurrently(entry: QueueEntry, message: ReceivedMessage): Promise<void> {
    const pq = entry.pq;
    try {
      await this.#workers.acquire(this.#stop.signal);
    } catch {
      return; // shutting down: the message stays uncommitted and is redelivered
    }
    try {
      while (!pq.dropped) {
        const outcome = await this.#invokeHandler(message, this.#context(pq.queue));
        if (outcome.kind === "abandoned" || pq.dropped) return;
        pq.lastConsumeTimestamp = Date.now();
        if (outcome.kind === "failure" && this.#model === "CLUSTERING") {
          if (!(await this.#sendBack(message, outcome.delayLevel))) {
            // Neither send-back nor re-send worked: keep the message and consume it again here.
            message.reconsumeTimes++;
            this.#workers.release();
            await sleep(LOCAL_RETRY_DELAY_MS, this.#stop.signal);
            await this.#workers.acquire(this.#stop.signal).catch(() => undefined);
            if (this.#stop.signal.aborted) return;
            continue;
          }
        } else if (outcome.kind === "failure") {
          this.#instance.logger.warn("Broadcast message failed and is dropped (broadcasting has no retry)", {
            msgId: message.msgId,
          });
        }
        const queueOffset = pq.remove([message]);
        if (queueOffset >= 0 && !pq.dropped) this.#store.update(pq.queue, queueOffset, true);
        return;
      }
    } finally {
      if (!this.#stop.signal.aborted) this.#workers.release();
    }
  }

  /**
   * CONSUMER_SEND_MSG_BACK; on failure, re-send to the retry topic as a normal message (what
   * Java does). False if both failed.
   */
  async #sendBack(message: ReceivedMessage, delayLevel: number): Promise<boolean> {
    try {
      await this.#instance.sendMessageBack(message, this.group, delayLevel, this.#maxReconsumeTimes);
      return true;
    } catch (error) {
      this.#instance.logger.warn("Send-back failed; re-sending to the retry topic", {
        group: this.group,
        msgId: message.msgId,
        error: errorText(error),
      });
    }
    try {
      await this.#resendToRetryTopic(message, message.reconsumeTimes + 1);
      return true;
    } catch (error) {
      this.#instance.logger.error("Re-send to the retry topic failed; retrying locally", {
        group: this.group,
        msgId: message.msgId,
        error: errorText(error),
      });
      return false;
    }
  }

  /** Java's fallback: a copy of the message to `%RETRY%<group>` with the retry bookkeeping. */
  async #resendToRetryTopic(message: ReceivedMessage, reconsumeTimes: number): Promise<void> {
    const system: Record<string, string> = {};
    for (const name in message.properties) {
      if (name === "TAGS" || name === "KEYS" || name === "DELAY" || name === "WAIT" || name === "TRAN_MSG") continue;
      if (
        name === "RECONSUME_TIME" || name === "MAX_RECONSUME_TIMES" || name === "MIN_OFFSET" || name === "MAX_OFFSET"
      ) continue;
      system[name] = message.properties[name];
    }
    system.RETRY_TOPIC = message.topic;
    system.ORIGIN_MESSAGE_ID = message.properties.ORIGIN_MESSAGE_ID || message.msgId;
    await this.#innerProducer.sendRetry(
      {
        topic: retryTopic(this.group),
        body: message.body,
        tags: message.tags,
        keys: message.keys,
        flag: message.flag,
        delayLevel: Math.min(DELAY_LEVEL_MAX, 3 + message.reconsumeTimes),
      },
      reconsumeTimes,
      this.#maxReconsumeTimes,
      system,
    );
  }

  async #orderlyLoop(entry: QueueEntry): Promise<void> {
    const pq = entry.pq;
    const clustering = this.#model === "CLUSTERING";
    try {
      while (!pq.dropped && !this.#stop.signal.aborted) {
        if (clustering && (!pq.locked || pq.isLockExpired())) {
          if (!(await this.#lockQueue(pq.queue))) {
            await sleep(LOCK_RETRY_DELAY_MS, this.#stop.signal);
            continue;
          }
        }
        const messages = pq.take(1);
        if (messages.length === 0) return;
        const message = messages[0];
        try {
          await this.#workers.acquire(this.#stop.signal);
        } catch {
          pq.rollback();
          return;
        }
        let outcome: Outcome;
        try {
          outcome = await this.#invokeHandler(message, this.#context(pq.queue));
        } finally {
          if (!this.#stop.signal.aborted) this.#workers.release();
        }
        if (outcome.kind === "abandoned" || pq.dropped) {
          pq.rollback();
          return;
        }
        pq.lastConsumeTimestamp = Date.now();
        if (outcome.kind === "failure") {
          if (message.reconsumeTimes < this.#maxReconsumeTimes || !(await this.#sendToDlq(message))) {
            message.reconsumeTimes++;
            pq.rollback();
            await sleep(outcome.suspendMs, this.#stop.signal);
            continue;
          }
        }
        const queueOffset = pq.commit();
        if (queueOffset >= 0 && !pq.dropped) this.#store.update(pq.queue, queueOffset, false);
      }
    } finally {
      pq.consuming = false;
      if (!pq.dropped && !this.#stop.signal.aborted && pq.untaken > 0) this.#dispatch(entry, []);
    }
  }

  /** Orderly: a message out of retries goes to the retry topic at its limit, so the broker moves it to the DLQ. */
  async #sendToDlq(message: ReceivedMessage): Promise<boolean> {
    try {
      await this.#resendToRetryTopic(message, message.reconsumeTimes);
      return true;
    } catch (error) {
      this.#instance.logger.error("Cannot move message to the DLQ; suspending the queue", {
        msgId: message.msgId,
        error: errorText(error),
      });
      return false;
    }
  }

  // ---- orderly locks ----

  async #lockQueue(queue: MessageQueue): Promise<boolean> {
    try {
      const addr = await this.#instance.brokerAddr(queue);
      const locked = await this.#instance.lockBatch(addr, this.group, [queue]);
      const ok = locked.some((q) => queueKey(q) === queueKey(queue));
      const entry = this.#table.get(queueKey(queue));
      if (entry) {
        entry.pq.locked = ok;
        if (ok) entry.pq.lastLockTimestamp = Date.now();
      }
      return ok;
    } catch (error) {
      this.#instance.logger.warn("Cannot lock queue", { queue, error: errorText(error) });
      return false;
    }
  }

  async #lockAll(): Promise<void> {
    for (const [brokerName, entries] of this.#byBroker()) {
      const queues = entries.map((e) => e.pq.queue);
      try {
        const addr = await this.#instance.brokerAddr(queues[0]);
        const locked = new Set((await this.#instance.lockBatch(addr, this.group, queues)).map(queueKey));
        const now = Date.now();
        for (const { pq } of entries) {
          const ok = locked.has(queueKey(pq.queue));
          if (!ok && pq.locked) this.#instance.logger.warn("Lost queue lock", { queue: pq.queue });
          pq.locked = ok;
          if (ok) pq.lastLockTimestamp = now;
        }
      } catch (error) {
        this.#instance.logger.warn("Cannot renew queue locks", { brokerName, error: errorText(error) });
      }
    }
  }

  async #unlockAll(): Promise<void> {
    await Promise.all([...this.#byBroker()].map(async ([brokerName, entries]) => {
      try {
        const addr = await this.#instance.brokerAddr(entries[0].pq.queue);
        await this.#instance.unlockBatch(addr, this.group, entries.map((e) => e.pq.queue), false);
      } catch (error) {
        this.#instance.logger.info("Cannot unlock queues", { brokerName, error: errorText(error) });
      }
    }));
  }

  #byBroker(): Map<string, QueueEntry[]> {
    const out = new Map<string, QueueEntry[]>();
    for (const entry of this.#table.values()) {
      const list = out.get(entry.pq.queue.brokerName);
      if (list) list.push(entry);
      else out.set(entry.pq.queue.brokerName, [entry]);
    }
    return out;
  }

  // ---- offsets and stats ----

  async #persistOffsets(final: boolean): Promise<void> {
    await this.#store.persistAll(this.assignedQueues(), final);
  }

  #statsOf(topic: string): TopicStats {
    let stats = this.#stats.get(topic);
    if (!stats) {
      stats = {
        pullRtMs: 0,
        pulls: 0,
        pulledMessages: 0,
        consumeRtMs: 0,
        consumeOk: 0,
        consumeFailed: 0,
        since: Date.now(),
      };
      this.#stats.set(topic, stats);
    }
    return stats;
  }

  /** `ConsumeStatus` JSON since the previous report (counters reset on read). */
  #statusOf(topic: string): Record<string, number> {
    const stats = this.#statsOf(topic);
    const seconds = Math.max(1, (Date.now() - stats.since) / 1000);
    const consumed = stats.consumeOk + stats.consumeFailed;
    const status = {
      consumeFailedMsgs: stats.consumeFailed,
      consumeFailedTPS: stats.consumeFailed / seconds,
      consumeOKTPS: stats.consumeOk / seconds,
      consumeRT: consumed === 0 ? 0 : stats.consumeRtMs / consumed,
      pullRT: stats.pulls === 0 ? 0 : stats.pullRtMs / stats.pulls,
      pullTPS: stats.pulledMessages / seconds,
    };
    this.#stats.delete(topic);
    return status;
  }
}
