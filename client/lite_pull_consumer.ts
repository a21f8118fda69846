/**
 * The lite pull consumer (Java's `DefaultLitePullConsumer`): the application asks for messages
 * with `poll()` instead of receiving them in a handler. Queues come from `subscribe()`
 * (rebalanced across the group, like the push consumer) or from `assign()` (chosen by the
 * application). A background long-poll loop per queue fills a bounded buffer; `poll()` takes
 * one pulled batch; `seek()` moves a queue's position; offsets of polled messages are committed
 * by `commit()`, and every 5 s when `autoCommit` is on.
 *
 * Runtime-neutral; imports `protocol/` and the client's own files.
 *
 * @module
 */

import { HandOff, Periodic, sleep } from "./_async.ts";
import { errorText } from "./_log.ts";
import {
  ClientInstance,
  type ClientOptions,
  type ConsumeFromWhere,
  type ConsumerMember,
  type MessageModel,
  positiveInteger,
  PullSysFlag,
} from "./client_instance.ts";
import { BrokerResponseError, ClientClosedError } from "./errors.ts";
import {
  checkName,
  decodePulledMessages,
  type MessageQueue,
  queueJson,
  queueKey,
  type ReceivedMessage,
} from "./message.ts";
import { OFFSET_NONE, type OffsetStore, offsetStoreFor } from "./offset_store.ts";
import { ProcessQueue } from "./process_queue.ts";
import { allocateAveragely, type AllocateStrategy, rebalanceTopics } from "./rebalance.ts";
import { parseSubscription, type Subscription, subscriptionJson } from "./subscription.ts";

/** Options for {@linkcode LitePullConsumer}. */
export interface LitePullConsumerOptions extends ClientOptions {
  /** Consumer group (offsets are kept per group). */
  group: string;
  /** `CLUSTERING` (default) or `BROADCASTING` (offsets in a local file). */
  messageModel?: MessageModel;
  /** Where a queue without a committed offset starts (default `CONSUME_FROM_LAST_OFFSET`). */
  consumeFromWhere?: ConsumeFromWhere;
  /** For `CONSUME_FROM_TIMESTAMP`: ms since the epoch (default: 30 minutes ago). */
  consumeTimestamp?: number;
  /** Commit polled offsets every `autoCommitIntervalMs` (default true). */
  autoCommit?: boolean;
  /** Auto-commit period (5 s). */
  autoCommitIntervalMs?: number;
  /** Messages per pull (Java: 10). */
  pullBatchSize?: number;
  /** Pulling pauses while the buffer holds more messages than this, over all queues (10000). */
  pullThresholdForAll?: number;
  /** … or one queue holds more than this (1000). */
  pullThresholdForQueue?: number;
  /** Broker long-poll hold (Java: 20 s). */
  brokerSuspendMaxMs?: number;
  /** Wait before pulling again after an error (1 s). */
  pullDelayOnErrorMs?: number;
  /** Queue allocation when subscribing (default: {@linkcode allocateAveragely}). */
  allocateStrategy?: AllocateStrategy;
  /** Rebalance period when subscribing (20 s). */
  rebalanceIntervalMs?: number;
  /** Broadcasting: root directory of the local offset files. */
  offsetStoreDir?: string;
  /** Aborting shuts the consumer down. */
  signal?: AbortSignal;
}

interface QueueState {
  queue: MessageQueue;
  pq: ProcessQueue;
  /** Where the next pull starts; undefined until first computed. */
  pullOffset: number | undefined;
  /** Offset after the last polled message; -1 before any poll. */
  consumedOffset: number;
  paused: boolean;
  /** Bumped by `seek()`: pulls and buffered batches of an older generation are discarded. */
  generation: number;
  loops: Set<Promise<void>>;
}

interface Batch {
  state: QueueState;
  generation: number;
  messages: ReceivedMessage[];
}

/** Delay while the buffer is full or the queue paused. */
const FLOW_CONTROL_DELAY_MS = 50;
const PAUSED_DELAY_MS = 1000;

/**
 * A pull consumer with a poll API.
 *
 * @example Subscribe and poll
 * ```ts ignore
 * import { LitePullConsumer } from "./lite_pull_consumer.ts";
 *
 * await using consumer = new LitePullConsumer({ nameServer: "127.0.0.1:9876", group: "reports" });
 * consumer.subscribe("orders", "*");
 * await consumer.start();
 * const batch = await consumer.poll(1000);
 * for (const message of batch) console.log(message.queueOffset, message.text);
 * await consumer.commit();
 * ```
 *
 * @example Assign queues and seek
 * ```ts ignore
 * import { LitePullConsumer } from "./lite_pull_consumer.ts";
 *
 * const consumer = new LitePullConsumer({ nameServer: "127.0.0.1:9876", group: "replay", autoCommit: false });
 * const queues = await consumer.fetchQueues("orders");
 * consumer.assign(queues);
 * await consumer.start();
 * await consumer.seekToBegin(queues[0]);
 * for await (const message of consumer) {
 *   if (message.queueOffset > 100) break;
 * }
 * await consumer.shutdown();
 * ```
 */
export class LitePullConsumer implements ConsumerMember, AsyncIterable<ReceivedMessage> {
  /** The consumer group. */
  readonly group: string;
  readonly #instance: ClientInstance;
  readonly #model: MessageModel;
  readonly #consumeFromWhere: ConsumeFromWhere;
  readonly #consumeTimestamp: number;
  readonly #autoCommit: boolean;
  readonly #pullBatchSize: number;
  readonly #thresholdForAll: number;
  readonly #thresholdForQueue: number;
  readonly #suspendMs: number;
  readonly #pullDelayOnErrorMs: number;
  readonly #strategy: AllocateStrategy;
  readonly #store: OffsetStore;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #queues = new Map<string, QueueState>();
  readonly #buffer = new HandOff<Batch>();
  readonly #stop = new AbortController();
  readonly #rebalancer: Periodic;
  readonly #committer: Periodic;
  #buffered = 0;
  #mode: "none" | "subscribe" | "assign" = "none";
  #state: "created" | "running" | "closed" = "created";

  /**
   * Creates a lite pull consumer; call `subscribe()` or `assign()`, then `start()`.
   *
   * @throws {TypeError} for a bad group name or NameServer list.
   * @throws {RangeError} for an out-of-range numeric option.
   */
  constructor(options: LitePullConsumerOptions) {
    checkName(options.group, "group");
    this.group = options.group;
    this.#model = options.messageModel ?? "CLUSTERING";
    this.#instance = new ClientInstance(options, {
      defaultInstanceName: this.#model === "BROADCASTING" ? "DEFAULT" : undefined,
    });
    this.#consumeFromWhere = options.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET";
    this.#consumeTimestamp = options.consumeTimestamp ?? Date.now() - 30 * 60 * 1000;
    this.#autoCommit = options.autoCommit ?? true;
    this.#pullBatchSize = positiveInteger(options.pullBatchSize ?? 10, "pullBatchSize", 1024);
    this.#thresholdForAll = positiveInteger(options.pullThresholdForAll ?? 10000, "pullThresholdForAll");
    this.#thresholdForQueue = positiveInteger(options.pullThresholdForQueue ?? 1000, "pullThresholdForQueue");
    this.#suspendMs = positiveInteger(options.brokerSuspendMaxMs ?? 20000, "brokerSuspendMaxMs");
    this.#pullDelayOnErrorMs = positiveInteger(options.pullDelayOnErrorMs ?? 1000, "pullDelayOnErrorMs");
    this.#strategy = options.allocateStrategy ?? allocateAveragely;
    this.#store = offsetStoreFor(this.#model, this.#instance, this.group, options.offsetStoreDir);
    const warn = (what: string) => (error: unknown) =>
      this.#instance.logger.warn(what, { group: this.group, error: errorText(error) });
    this.#rebalancer = new Periodic(
      positiveInteger(options.rebalanceIntervalMs ?? 20000, "rebalanceIntervalMs"),
      () => this.#rebalance(),
      warn("Rebalance failed"),
    );
    this.#committer = new Periodic(
      positiveInteger(options.autoCommitIntervalMs ?? 5000, "autoCommitIntervalMs"),
      () => this.#commitAll(false),
      warn("Auto-commit failed"),
    );
    this.#instance.registerConsumer(this);
    if (options.signal) {
      if (options.signal.aborted) throw new ClientClosedError("Cannot create consumer: the signal is already aborted");
      options.signal.addEventListener("abort", () => void this.shutdown(), { once: true });
    }
  }

  /** This client's id. */
  get clientId(): string {
    return this.#instance.clientId;
  }

  /** Queues being pulled now. */
  assignment(): MessageQueue[] {
    return [...this.#queues.values()].map((s) => s.queue);
  }

  /**
   * Subscribes to `topic` (group-rebalanced queues).
   *
   * @throws {TypeError} after `assign()`, or for an invalid topic.
   */
  subscribe(topic: string, expression = "*"): this {
    checkName(topic, "topic");
    if (this.#mode === "assign") throw new TypeError("Cannot subscribe: queues were assigned with assign()");
    this.#mode = "subscribe";
    this.#subscriptions.set(topic, parseSubscription(topic, expression));
    if (this.#state === "running") void this.#afterChange();
    return this;
  }

  /**
   * Pulls exactly these queues (no rebalancing); replaces an earlier assignment.
   *
   * @throws {TypeError} after `subscribe()`.
   */
  assign(queues: readonly MessageQueue[], expression = "*"): this {
    if (this.#mode === "subscribe") {
      throw new TypeError("Cannot assign queues: topics were subscribed with subscribe()");
    }
    this.#mode = "assign";
    const topics = new Set(queues.map((q) => q.topic));
    for (const topic of [...this.#subscriptions.keys()]) if (!topics.has(topic)) this.#subscriptions.delete(topic);
    for (const topic of topics) {
      checkName(topic, "topic");
      this.#subscriptions.set(topic, parseSubscription(topic, expression));
    }
    if (this.#state === "running") void this.#applyAssignment(undefined, queues);
    else this.#pendingAssignment = [...queues];
    return this;
  }
  #pendingAssignment: MessageQueue[] | undefined;

  /** Readable queues of `topic`, from its route. */
  async fetchQueues(topic: string): Promise<MessageQueue[]> {
    checkName(topic, "topic");
    const routes = this.#instance.routes;
    if (!routes.subscribeQueues(topic)) await routes.update(topic);
    const queues = routes.subscribeQueues(topic);
    if (!queues) throw new BrokerResponseError(17, `Cannot list queues of topic "${topic}": it has no route`);
    return [...queues];
  }

  /**
   * Starts pulling.
   *
   * @throws {TypeError} when started twice or with nothing subscribed or assigned.
   */
  async start(): Promise<void> {
    this.#instance.assertOpen("start consumer");
    if (this.#state !== "created") {
      throw new TypeError(`Cannot start consumer of group "${this.group}": it was already started`);
    }
    if (this.#mode === "none") throw new TypeError("Cannot start consumer: call subscribe() or assign() first");
    await this.#store.load();
    this.#instance.start();
    for (const topic of this.#subscriptions.keys()) {
      try {
        await this.#instance.routes.update(topic);
      } catch (error) {
        this.#instance.logger.warn("Cannot fetch topic route", { topic, error: errorText(error) });
      }
    }
    await this.#instance.heartbeatAll();
    this.#state = "running";
    if (this.#mode === "assign") await this.#applyAssignment(undefined, this.#pendingAssignment ?? []);
    else await this.#rebalancer.trigger();
    if (this.#autoCommit) this.#committer.start();
  }

  /**
   * Takes the next pulled batch (messages of one queue, in offset order), waiting up to
   * `timeoutMs`; `[]` on timeout or shutdown. Polled messages count as consumed: their offsets
   * are committed by `commit()` or auto-commit.
   */
  async poll(timeoutMs = 5000, options: { signal?: AbortSignal } = {}): Promise<ReceivedMessage[]> {
    if (this.#state === "created") throw new TypeError("Cannot poll: the consumer is not started");
    const deadline = Date.now() + timeoutMs;
    const signal = options.signal ? AbortSignal.any([options.signal, this.#stop.signal]) : this.#stop.signal;
    while (true) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signal.aborted) return [];
      const batch = await this.#buffer.take(remaining, signal);
      if (!batch) return [];
      this.#buffered -= batch.messages.length;
      const state = batch.state;
      if (batch.generation !== state.generation || state.pq.dropped) continue;
      const queueOffset = state.pq.remove(batch.messages);
      if (queueOffset >= 0) state.consumedOffset = queueOffset;
      return batch.messages;
    }
  }

  /** Messages one by one, polling until shutdown (or until `signal` aborts). */
  async *messages(options: { signal?: AbortSignal; pollTimeoutMs?: number } = {}): AsyncGenerator<ReceivedMessage> {
    while (this.#state === "running" && !options.signal?.aborted) {
      const batch = await this.poll(options.pollTimeoutMs ?? 1000, options);
      for (const message of batch) yield message;
    }
  }

  /** Same as `messages()`. */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    return this.messages();
  }

  /**
   * Moves `queue`'s position: the next messages polled from it start at `queueOffset`.
   * Buffered messages of the queue are dropped.
   *
   * @throws {TypeError} when the queue is not assigned.
   * @throws {RangeError} when the offset is outside the queue's [min, max].
   */
  async seek(queue: MessageQueue, queueOffset: number): Promise<void> {
    const state = this.#stateOf(queue, "seek");
    const [min, max] = await Promise.all([this.#instance.minOffset(queue), this.#instance.maxOffset(queue)]);
    if (!Number.isSafeInteger(queueOffset) || queueOffset < min || queueOffset > max) {
      throw new RangeError(`Cannot seek ${queueKey(queue)} to ${queueOffset}: valid offsets are ${min}-${max}`);
    }
    this.#reposition(state, queueOffset);
  }

  /** Seeks to the queue's first offset. */
  async seekToBegin(queue: MessageQueue): Promise<void> {
    this.#reposition(this.#stateOf(queue, "seek"), await this.#instance.minOffset(queue));
  }

  /** Seeks to the queue's end (only new messages). */
  async seekToEnd(queue: MessageQueue): Promise<void> {
    this.#reposition(this.#stateOf(queue, "seek"), await this.#instance.maxOffset(queue));
  }

  /** The first offset stored at or after `timestampMs`. */
  offsetForTimestamp(queue: MessageQueue, timestampMs: number): Promise<number> {
    return this.#instance.searchOffset(queue, timestampMs);
  }

  /** The committed offset of `queue` (-1 if none). */
  async committed(queue: MessageQueue): Promise<number> {
    return await this.#store.read(queue, "store");
  }

  /** Stops pulling these queues until `resume()`. */
  pause(queues: readonly MessageQueue[]): void {
    for (const queue of queues) {
      const state = this.#queues.get(queueKey(queue));
      if (state) state.paused = true;
    }
  }

  /** Resumes pulling these queues. */
  resume(queues: readonly MessageQueue[]): void {
    for (const queue of queues) {
      const state = this.#queues.get(queueKey(queue));
      if (state) state.paused = false;
    }
  }

  /**
   * Commits the offsets of everything polled so far (or the given offsets) and waits for the
   * broker (or the local file) to take them.
   */
  async commit(offsets?: ReadonlyArray<readonly [MessageQueue, number]>): Promise<void> {
    if (offsets) {
      for (const [queue, queueOffset] of offsets) this.#store.update(queue, queueOffset, false);
      await Promise.all(offsets.map(([queue]) => this.#store.persist(queue)));
      return;
    }
    await this.#commitAll(true);
  }

  /** Commits (with auto-commit), unregisters and closes. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.#state === "closed") return;
    const wasRunning = this.#state === "running";
    this.#state = "closed";
    this.#stop.abort(new ClientClosedError(`Consumer of group "${this.group}" was shut down`));
    await Promise.all([this.#rebalancer.stop(), this.#committer.stop()]);
    this.#buffer.close();
    if (wasRunning && this.#autoCommit) await this.#commitAll(true);
    for (const state of this.#queues.values()) state.pq.dropped = true;
    await this.#instance.shutdown();
    await Promise.all([...this.#queues.values()].flatMap((s) => [...s.loops]));
    this.#queues.clear();
  }

  /** Same as {@linkcode shutdown}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  // ---- ConsumerMember ----

  /** @internal */
  heartbeatData(): Record<string, unknown> {
    return {
      consumeFromWhere: this.#consumeFromWhere,
      consumeType: "CONSUME_ACTIVELY",
      groupName: this.group,
      messageModel: this.#model,
      subscriptionDataSet: this.#mode === "subscribe" ? [...this.#subscriptions.values()].map(subscriptionJson) : [],
      unitMode: false,
    };
  }

  /** @internal */
  topics(): string[] {
    return [...this.#subscriptions.keys()];
  }

  /** @internal */
  rebalanceNow(): void {
    if (this.#state === "running" && this.#mode === "subscribe") void this.#rebalancer.trigger();
  }

  /** @internal */
  runningInfo(): Record<string, unknown> {
    const mqTable = new Map<Record<string, unknown>, Record<string, unknown>>();
    for (const state of this.#queues.values()) mqTable.set(queueJson(state.queue), state.pq.info(state.consumedOffset));
    return {
      mqTable,
      properties: {
        PROP_CONSUME_TYPE: "CONSUME_ACTIVELY",
        consumerGroup: this.group,
        messageModel: this.#model,
        consumeFromWhere: this.#consumeFromWhere,
      },
      statusTable: {},
      subscriptionSet: [...this.#subscriptions.values()].map(subscriptionJson),
    };
  }

  /** @internal */
  consumerStatus(topic: string): Array<[MessageQueue, number]> {
    return this.#store.snapshot(topic);
  }

  // ---- internals ----

  #stateOf(queue: MessageQueue, what: string): QueueState {
    const state = this.#queues.get(queueKey(queue));
    if (!state) throw new TypeError(`Cannot ${what} ${queueKey(queue)}: the queue is not assigned to this consumer`);
    return state;
  }

  #reposition(state: QueueState, queueOffset: number): void {
    state.generation++;
    state.pq.clear();
    for (const batch of this.#buffer.removeWhere((b) => b.state === state)) this.#buffered -= batch.messages.length;
    state.pullOffset = queueOffset;
    this.#startLoop(state);
  }

  async #afterChange(): Promise<void> {
    try {
      for (const topic of this.#subscriptions.keys()) await this.#instance.routes.update(topic);
      await this.#instance.heartbeatAll();
      this.rebalanceNow();
    } catch (error) {
      this.#instance.logger.warn("Cannot apply subscription change", { group: this.group, error: errorText(error) });
    }
  }

  async #rebalance(): Promise<void> {
    if (this.#state !== "running" || this.#mode !== "subscribe") return;
    await rebalanceTopics(
      this.#instance,
      { group: this.group, clientId: this.clientId, model: this.#model, strategy: this.#strategy },
      this.#subscriptions.keys(),
      (topic, assigned) => this.#applyAssignment(topic, assigned),
    );
  }

  /** Makes the assigned set of `topic` (or of everything, when undefined) equal to `queues`. */
  async #applyAssignment(topic: string | undefined, queues: readonly MessageQueue[]): Promise<void> {
    const wanted = new Map(queues.map((q) => [queueKey(q), q]));
    for (const [key, state] of this.#queues) {
      if (topic !== undefined && state.queue.topic !== topic) continue;
      if (wanted.has(key)) continue;
      state.pq.dropped = true;
      this.#queues.delete(key);
      for (const batch of this.#buffer.removeWhere((b) => b.state === state)) this.#buffered -= batch.messages.length;
      if (state.consumedOffset >= 0) this.#store.update(state.queue, state.consumedOffset, false);
      try {
        await this.#store.persist(state.queue);
      } catch (error) {
        this.#instance.logger.warn("Cannot commit offset of released queue", {
          queue: state.queue,
          error: errorText(error),
        });
      }
      this.#store.remove(state.queue);
    }
    for (const [key, queue] of wanted) {
      if (this.#queues.has(key) || this.#state !== "running") continue;
      const state: QueueState = {
        queue,
        pq: new ProcessQueue(queue),
        pullOffset: undefined,
        consumedOffset: -1,
        paused: false,
        generation: 0,
        loops: new Set(),
      };
      this.#queues.set(key, state);
      this.#startLoop(state);
    }
  }

  #startLoop(state: QueueState): void {
    const loop = this.#pullLoop(state, state.generation);
    state.loops.add(loop);
    loop.finally(() => state.loops.delete(loop));
  }

  async #pullLoop(state: QueueState, generation: number): Promise<void> {
    const signal = this.#stop.signal;
    while (!state.pq.dropped && !signal.aborted && state.generation === generation) {
      let delayMs: number;
      try {
        delayMs = await this.#pullOnce(state, generation);
      } catch (error) {
        if (state.pq.dropped || signal.aborted) return;
        this.#instance.logger.warn("Pull failed", { queue: state.queue, error: errorText(error) });
        this.#instance.refreshRouteSoon(state.queue.topic);
        delayMs = this.#pullDelayOnErrorMs;
      }
      if (delayMs > 0) await sleep(delayMs, signal);
    }
  }

  async #pullOnce(state: QueueState, generation: number): Promise<number> {
    const { queue, pq } = state;
    pq.lastPullTimestamp = Date.now();
    if (state.paused) return PAUSED_DELAY_MS;
    if (this.#buffered > this.#thresholdForAll || pq.count > this.#thresholdForQueue) return FLOW_CONTROL_DELAY_MS;
    if (state.pullOffset === undefined) {
      const start = await this.#computePullFromWhere(queue);
      if (start < 0) return this.#pullDelayOnErrorMs;
      if (state.generation !== generation) return 0;
      state.pullOffset = start;
    }
    const subscription = this.#subscriptions.get(queue.topic) ?? parseSubscription(queue.topic, "*");
    const addr = await this.#instance.brokerAddr(queue, true);
    const result = await this.#instance.pull(addr, {
      consumerGroup: this.group,
      queue,
      queueOffset: state.pullOffset,
      maxMsgNums: this.#pullBatchSize,
      sysFlag: PullSysFlag.SUSPEND | PullSysFlag.SUBSCRIPTION | PullSysFlag.LITE_PULL,
      commitOffset: 0,
      suspendTimeoutMillis: this.#suspendMs,
      subscription: subscription.expression,
      subVersion: subscription.subVersion,
      expressionType: "TAG",
    }, this.#suspendMs + 10000);
    if (state.generation !== generation || pq.dropped) return 0;
    switch (result.status) {
      case "FOUND": {
        state.pullOffset = result.nextBeginOffset;
        const messages = result.body
          ? decodePulledMessages(result.body, {
            brokerName: queue.brokerName,
            minOffset: result.minOffset,
            maxOffset: result.maxOffset,
            tags: subscription.tags,
          })
          : [];
        if (messages.length > 0) {
          pq.put(messages);
          this.#buffered += messages.length;
          this.#buffer.push({ state, generation, messages });
        }
        return 0;
      }
      case "NO_NEW_MSG":
      case "NO_MATCHED_MSG":
        state.pullOffset = result.nextBeginOffset;
        return 0;
      case "OFFSET_ILLEGAL":
        this.#instance.logger.warn("Pull offset is illegal; moving on", {
          queue,
          requested: state.pullOffset,
          nextBeginOffset: result.nextBeginOffset,
        });
        state.pullOffset = result.nextBeginOffset;
        return 0;
    }
  }

  async #computePullFromWhere(queue: MessageQueue): Promise<number> {
    const stored = await this.#store.read(queue, "store");
    if (stored >= 0) return stored;
    if (stored !== OFFSET_NONE) return -1;
    try {
      switch (this.#consumeFromWhere) {
        case "CONSUME_FROM_FIRST_OFFSET":
          return await this.#instance.minOffset(queue);
        case "CONSUME_FROM_TIMESTAMP":
          return await this.#instance.searchOffset(queue, this.#consumeTimestamp);
        default:
          return await this.#instance.maxOffset(queue);
      }
    } catch (error) {
      this.#instance.logger.warn("Cannot find where to start pulling", { queue, error: errorText(error) });
      return -1;
    }
  }

  async #commitAll(final: boolean): Promise<void> {
    for (const state of this.#queues.values()) {
      if (state.consumedOffset >= 0 && !state.pq.dropped) this.#store.update(state.queue, state.consumedOffset, false);
    }
    await this.#store.persistAll(this.assignment(), final);
  }
}
