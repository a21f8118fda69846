/**
 * Queue selection for sends, with Java's latency-fault avoidance (`MQFaultStrategy` and
 * `LatencyFaultToleranceImpl`): after each send the broker's latency is recorded, and a broker
 * that was slow or failed is left out of the round robin for a while: 30 s after a 550 ms send,
 * 10 minutes after a failure (charged as 30 s of latency; see {@linkcode notAvailableDurationMs}).
 * When every broker is benched, one of the better half is used anyway.
 *
 * Pure: time comes from an injected clock, so tests need no sleeps.
 *
 * @module
 */

import type { MessageQueue } from "./message.ts";
import type { TopicPublishInfo } from "./route_cache.ts";

/** Latency thresholds (ms), Java's `latencyMax`. */
export const LATENCY_MAX_MS: readonly number[] = [50, 100, 550, 1000, 2000, 3000, 15000];
/** How long a broker is avoided at each threshold (ms), Java's `notAvailableDuration`. */
export const NOT_AVAILABLE_DURATION_MS: readonly number[] = [0, 0, 30000, 60000, 120000, 180000, 600000];
/** The latency charged for a failed send (Java's `isolation` case). */
export const ISOLATION_LATENCY_MS = 30000;

/** How long a broker with this latency is avoided. */
export function notAvailableDurationMs(latencyMs: number): number {
  for (let i = LATENCY_MAX_MS.length - 1; i >= 0; i--) {
    if (latencyMs >= LATENCY_MAX_MS[i]) return NOT_AVAILABLE_DURATION_MS[i];
  }
  return 0;
}

interface FaultItem {
  name: string;
  latencyMs: number;
  availableAt: number;
}

/** Options for {@linkcode FaultStrategy}. */
export interface FaultStrategyOptions {
  /** Avoid slow or failing brokers (Java `sendLatencyFaultEnable`). Without it, a retry only avoids the last broker. */
  enabled?: boolean;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Picks the queue for each send attempt.
 *
 * @example
 * ```ts
 * import { FaultStrategy } from "./fault_strategy.ts";
 *
 * let now = 0;
 * const strategy = new FaultStrategy({ enabled: true, now: () => now });
 * strategy.record("broker-a", 30000, true); // a failure: broker-a benched for 600 s
 * console.assert(!strategy.isAvailable("broker-a"));
 * now += 600_000;
 * console.assert(strategy.isAvailable("broker-a"));
 * ```
 */
export class FaultStrategy {
  readonly enabled: boolean;
  readonly #now: () => number;
  readonly #items = new Map<string, FaultItem>();
  /** Round-robin index per topic (Java keeps one per TopicPublishInfo). */
  readonly #indexes = new Map<string, number>();
  #worstIndex = Math.floor(Math.random() * 1024);

  constructor(options: FaultStrategyOptions = {}) {
    this.enabled = options.enabled ?? true;
    this.#now = options.now ?? Date.now;
  }

  /** Records a send's latency; `isolation` (a failure) charges 30 s. */
  record(brokerName: string, latencyMs: number, isolation: boolean): void {
    if (!this.enabled) return;
    const charged = isolation ? ISOLATION_LATENCY_MS : latencyMs;
    const availableAt = this.#now() + notAvailableDurationMs(charged);
    const item = this.#items.get(brokerName);
    if (item) {
      item.latencyMs = charged;
      item.availableAt = availableAt;
    } else {
      this.#items.set(brokerName, { name: brokerName, latencyMs: charged, availableAt });
    }
  }

  /** Whether `brokerName` is not benched. */
  isAvailable(brokerName: string): boolean {
    const item = this.#items.get(brokerName);
    return !item || this.#now() >= item.availableAt;
  }

  /**
   * The queue for the next attempt. `lastBrokerName` is the broker the previous attempt of the
   * same message went to (retries prefer another one).
   */
  select(info: TopicPublishInfo, lastBrokerName?: string): MessageQueue | undefined {
    const queues = info.queues;
    if (queues.length === 0) return undefined;
    if (this.enabled) {
      let index = this.#nextIndex(info.topic);
      for (let i = 0; i < queues.length; i++) {
        const queue = queues[Math.abs(index++ % queues.length)];
        if (this.isAvailable(queue.brokerName)) return queue;
      }
      const notBest = this.#pickOneAtLeast();
      const nums = notBest === undefined ? 0 : info.writeQueueNums.get(notBest) ?? 0;
      if (notBest !== undefined && nums > 0) {
        return { topic: info.topic, brokerName: notBest, queueId: this.#nextIndex(info.topic) % nums };
      }
      if (notBest !== undefined) this.#items.delete(notBest);
      return queues[this.#nextIndex(info.topic) % queues.length];
    }
    return this.#selectAvoiding(info, lastBrokerName);
  }

  /** Java's `selectOneMessageQueue(lastBrokerName)`: round robin, skipping the last broker if possible. */
  #selectAvoiding(info: TopicPublishInfo, lastBrokerName?: string): MessageQueue {
    const queues = info.queues;
    if (lastBrokerName !== undefined) {
      for (let i = 0; i < queues.length; i++) {
        const queue = queues[this.#nextIndex(info.topic) % queues.length];
        if (queue.brokerName !== lastBrokerName) return queue;
      }
    }
    return queues[this.#nextIndex(info.topic) % queues.length];
  }

  #nextIndex(topic: string): number {
    let index = this.#indexes.get(topic);
    if (index === undefined) index = Math.floor(Math.random() * 1024);
    index = (index + 1) & 0x3fffffff;
    this.#indexes.set(topic, index);
    return index;
  }

  /** Java's `pickOneAtLeast`: among benched brokers, one of the better half. */
  #pickOneAtLeast(): string | undefined {
    const items = [...this.#items.values()];
    if (items.length === 0) return undefined;
    const now = this.#now();
    items.sort((a, b) => {
      const aOk = now >= a.availableAt;
      const bOk = now >= b.availableAt;
      if (aOk !== bOk) return aOk ? -1 : 1;
      if (a.latencyMs !== b.latencyMs) return a.latencyMs - b.latencyMs;
      return a.availableAt - b.availableAt;
    });
    const half = Math.floor(items.length / 2);
    if (half <= 0) return items[0].name;
    this.#worstIndex = (this.#worstIndex + 1) & 0x3fffffff;
    return items[this.#worstIndex % half].name;
  }
}
