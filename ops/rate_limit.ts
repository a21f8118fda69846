/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. DLQ resends and
 * redrives take a token per message, so an operator cannot flood a recovering consumer.
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";

/** Largest rate a redrive may ask for: a bound on the load one click can cause. */
export const REDRIVE_RATE_MAX = 1000;

/** A token bucket; `now` is injectable for tests. */
export class RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  #tokens: number;
  #lastMs: number;
  readonly #now: () => number;

  /** @throws {InvalidArgumentError} unless `0 < ratePerSecond <= REDRIVE_RATE_MAX` and `burst >= 1`. */
  constructor(ratePerSecond: number, burst = 1, now: () => number = Date.now) {
    if (!(ratePerSecond > 0 && ratePerSecond <= REDRIVE_RATE_MAX)) {
      throw new InvalidArgumentError(
        `Invalid rate ${ratePerSecond}: expected 0 < rate <= ${REDRIVE_RATE_MAX} per second`,
      );
    }
    if (!(burst >= 1)) throw new InvalidArgumentError(`Invalid burst ${burst}: expected at least 1`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#lastMs = now();
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#lastMs) / 1000) * this.ratePerSecond);
    this.#lastMs = now;
  }

  /** Takes a token if one is there; otherwise returns the ms until one will be. */
  tryTake(): { ok: true } | { ok: false; waitMs: number } {
    this.#refill();
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { ok: true };
    }
    return { ok: false, waitMs: Math.ceil(((1 - this.#tokens) / this.ratePerSecond) * 1000) };
  }

  /** Waits for a token; rejects with the signal's reason when aborted. */
  async take(signal?: AbortSignal): Promise<void> {
    while (true) {
      signal?.throwIfAborted();
      const result = this.tryTake();
      if (result.ok) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, result.waitMs);
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal!.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
  }
}
