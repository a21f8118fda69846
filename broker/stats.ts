/**
 * Broker counters for runtime info (GET_BROKER_RUNTIME_INFO), consume stats and metrics: puts
 * and gets per topic and group, with sliding-window rates.
 *
 * @module
 */

/** Seconds of history kept for rates (10 min, RocketMQ's longest TPS window). */
const WINDOW_SECONDS = 600;

/** A counter with per-second buckets for rates over the last 10 s, 1 min and 10 min. */
export class RateCounter {
  total = 0;
  readonly #buckets = new Float64Array(WINDOW_SECONDS);
  #lastSecond = 0;

  add(n: number, nowMs: number): void {
    this.#advance(nowMs);
    this.total += n;
    this.#buckets[this.#lastSecond % WINDOW_SECONDS] += n;
  }

  /** Average per second over the last `seconds` full seconds. */
  rate(seconds: number, nowMs: number): number {
    this.#advance(nowMs);
    let sum = 0;
    for (let i = 1; i <= seconds; i++) {
      sum += this.#buckets[(this.#lastSecond - i + WINDOW_SECONDS * 2) % WINDOW_SECONDS];
    }
    return sum / seconds;
  }

  #advance(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (this.#lastSecond === 0) this.#lastSecond = second;
    if (second <= this.#lastSecond) return;
    const steps = Math.min(second - this.#lastSecond, WINDOW_SECONDS);
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#lastSecond + i) % WINDOW_SECONDS] = 0;
    this.#lastSecond = second;
  }
}

/** Distinct topics or groups tracked; past this, new names share one "other" entry. */
const NAMES_MAX = 10_000;

/** Counters keyed by name, bounded. */
class CounterTable {
  readonly #table = new Map<string, RateCounter>();

  get(name: string): RateCounter {
    let counter = this.#table.get(name);
    if (!counter) {
      if (this.#table.size >= NAMES_MAX) name = "(other)";
      counter = this.#table.get(name) ?? new RateCounter();
      this.#table.set(name, counter);
    }
    return counter;
  }

  entries(): IterableIterator<[string, RateCounter]> {
    return this.#table.entries();
  }
}

/** All broker counters. */
export class BrokerStats {
  readonly startedAtMs = Date.now();
  readonly putMessages = new RateCounter();
  readonly putBytes = new RateCounter();
  readonly getMessages = new RateCounter();
  readonly getBytes = new RateCounter();
  readonly putByTopic = new CounterTable();
  readonly putBytesByTopic = new CounterTable();
  /** Keyed `topic@group`. */
  readonly getByTopicGroup = new CounterTable();
  readonly getBytesByTopicGroup = new CounterTable();
  readonly sendBackToRetry = new RateCounter();
  readonly sendBackToDlq = new RateCounter();
  readonly rejectedSends = new RateCounter();

  recordPut(topic: string, count: number, bytes: number, nowMs: number): void {
    this.putMessages.add(count, nowMs);
    this.putBytes.add(bytes, nowMs);
    this.putByTopic.get(topic).add(count, nowMs);
    this.putBytesByTopic.get(topic).add(bytes, nowMs);
  }

  recordGet(topic: string, group: string, count: number, bytes: number, nowMs: number): void {
    this.getMessages.add(count, nowMs);
    this.getBytes.add(bytes, nowMs);
    this.getByTopicGroup.get(`${topic}@${group}`).add(count, nowMs);
    this.getBytesByTopicGroup.get(`${topic}@${group}`).add(bytes, nowMs);
  }
}
