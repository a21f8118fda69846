/**
 * Held pulls (RocketMQ `PullRequestHoldService`): a pull that finds nothing new is held until a
 * matching message is dispatched to its queue or its hold time runs out, then re-executed once,
 * without leave to be held again — so each request is answered exactly once.
 *
 * Unlike RocketMQ, which checks held requests every 5 s, each hold has its own timer, so a pull
 * is answered at its deadline rather than up to 5 s after it.
 *
 * @module
 */

import { assert } from "../protocol/assert.ts";

interface HeldPull {
  key: string;
  queueOffset: number;
  filter?: (tagsCode: number) => boolean;
  timer: ReturnType<typeof setTimeout>;
  wake: () => void;
}

/** Held pulls by `topic@queueId`. */
export class PullHoldService {
  readonly #held = new Map<string, Set<HeldPull>>();
  readonly #countMax: number;
  #count = 0;
  #closed = false;

  /** `countMax` bounds the pulls held at once across all queues. */
  constructor(countMax: number) {
    assert(countMax >= 1, "pullHoldCountMax must be at least 1");
    this.#countMax = countMax;
  }

  /** Pulls held now. */
  get count(): number {
    return this.#count;
  }

  /**
   * Holds a pull. `wake` is called exactly once: when a message at or past `queueOffset` that
   * passes `filter` is dispatched to the queue, when `holdMs` elapses, or at close.
   *
   * @returns a function that wakes this pull now, or undefined, without holding, when
   * `countMax` pulls are already held or the service is closed.
   */
  hold(
    topic: string,
    queueId: number,
    queueOffset: number,
    holdMs: number,
    filter: ((tagsCode: number) => boolean) | undefined,
    wake: () => void,
  ): (() => void) | undefined {
    if (this.#closed || this.#count >= this.#countMax) return undefined;
    const key = `${topic}@${queueId}`;
    const held: HeldPull = {
      key,
      queueOffset,
      filter,
      wake,
      timer: setTimeout(() => this.#release(held), holdMs),
    };
    let set = this.#held.get(key);
    if (!set) this.#held.set(key, set = new Set());
    set.add(held);
    this.#count++;
    return () => this.#release(held);
  }

  /** Wakes pulls waiting on this queue for a message at `queueOffset` with `tagsCode`. */
  notifyArrival(topic: string, queueId: number, queueOffset: number, tagsCode: number): void {
    const set = this.#held.get(`${topic}@${queueId}`);
    if (!set) return;
    for (const held of set) {
      if (queueOffset >= held.queueOffset && (!held.filter || held.filter(tagsCode))) this.#release(held);
    }
  }

  /** Wakes every held pull (shutdown): each is answered with what the queue has now. */
  close(): void {
    this.#closed = true;
    for (const set of [...this.#held.values()]) for (const held of [...set]) this.#release(held);
  }

  #release(held: HeldPull): void {
    const set = this.#held.get(held.key);
    if (!set?.delete(held)) return; // already released
    if (set.size === 0) this.#held.delete(held.key);
    this.#count--;
    clearTimeout(held.timer);
    held.wake();
  }
}
