/**
 * Bounded work lanes: each request code runs in a named lane (send, pull, admin…) with a cap on
 * concurrent handlers and on the requests waiting for a slot. A full lane refuses at once, and
 * the server answers SYSTEM_BUSY (2) — RocketMQ's "[REJECTREQUEST]" — so nothing queues without
 * a bound and clients back off and retry.
 *
 * @module
 */

import { assert } from "../protocol/assert.ts";

/** Bounds of one lane. */
export interface LaneConfig {
  /** Handlers allowed to run at once (a handler awaiting an fsync or a long poll still counts). */
  concurrencyMax: number;
  /** Requests allowed to wait for a slot; beyond this the lane refuses. */
  queueLengthMax: number;
}

/** Counters of one lane, for runtime info and metrics. */
export interface LaneStats {
  running: number;
  queued: number;
  completed: number;
  rejected: number;
}

/** One bounded lane. */
export class Lane {
  readonly name: string;
  readonly #config: LaneConfig;
  #running = 0;
  /** Queued requests with the time they were queued (for the head's wait time). */
  #waiting: { start: () => void; sinceMs: number }[] = [];
  #completed = 0;
  #rejected = 0;

  constructor(name: string, config: LaneConfig) {
    assert(config.concurrencyMax >= 1, `lane "${name}" needs concurrencyMax >= 1`);
    assert(config.queueLengthMax >= 0, `lane "${name}" needs queueLengthMax >= 0`);
    this.name = name;
    this.#config = config;
  }

  /** The lane's counters. */
  get stats(): LaneStats {
    return {
      running: this.#running,
      queued: this.#waiting.length,
      completed: this.#completed,
      rejected: this.#rejected,
    };
  }

  /** The most requests allowed to wait for a slot. */
  get queueLengthMax(): number {
    return this.#config.queueLengthMax;
  }

  /** How long the oldest queued request has waited (RocketMQ's `headSlowTimeMills`); 0 when none waits. */
  headWaitMs(nowMs: number = Date.now()): number {
    const head = this.#waiting[0];
    return head ? Math.max(0, nowMs - head.sinceMs) : 0;
  }

  /**
   * Runs `task` when a slot is free. Returns `undefined`, without running it, when both the
   * slots and the queue are full.
   */
  run<T>(task: () => Promise<T>): Promise<T> | undefined {
    if (this.#running < this.#config.concurrencyMax) return this.#start(task);
    if (this.#waiting.length >= this.#config.queueLengthMax) {
      this.#rejected++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.#waiting.push({ start: resolve, sinceMs: Date.now() }))
      .then(() => this.#start(task));
  }

  async #start<T>(task: () => Promise<T>): Promise<T> {
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#completed++;
      this.#waiting.shift()?.start();
    }
  }
}

/** Creates lanes from a config table. */
export function createLanes(configs: Record<string, LaneConfig>): Map<string, Lane> {
  return new Map(Object.entries(configs).map(([name, config]) => [name, new Lane(name, config)]));
}
