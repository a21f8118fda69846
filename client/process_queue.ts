/**
 * A consumer's local buffer for one assigned queue (Java's `ProcessQueue`): pulled messages
 * waiting for or under consumption, by queue offset. The committable offset is the lowest offset
 * still held, so a crash redelivers what was not consumed and never skips a message.
 *
 * Messages arrive in ascending offsets (a pull continues where the last ended), so a `Map` in
 * insertion order doubles as the sorted tree Java uses; an out-of-order insert re-sorts.
 *
 * @module
 */

import { assert } from "../protocol/assert.ts";
import type { MessageQueue, ReceivedMessage } from "./message.ts";

/** A queue's broker lock expires after this long without renewal (Java `REBALANCE_LOCK_MAX_LIVE_TIME`). */
export const LOCK_MAX_LIVE_MS = 30_000;
/** A queue not pulled for this long is considered stuck and dropped at rebalance (Java `PULL_MAX_IDLE_TIME`). */
export const PULL_MAX_IDLE_MS = 120_000;

/** Buffer of one queue's pulled messages. */
export class ProcessQueue {
  readonly queue: MessageQueue;
  #messages = new Map<number, ReceivedMessage>();
  #bytes = 0;
  #lastInserted = -1;
  /** Orderly: how many head messages are taken (being consumed). */
  #taken = 0;
  /** Highest offset ever put. */
  queueOffsetMax = -1;
  /** Set when the queue is no longer ours; pull and consume loops stop. */
  dropped = false;
  /** Orderly: the broker lock is held. */
  locked = false;
  lastLockTimestamp = 0;
  lastPullTimestamp: number;
  lastConsumeTimestamp: number;
  tryUnlockTimes = 0;
  /** Orderly: a consume loop is running for this queue. */
  consuming = false;

  constructor(queue: MessageQueue, now = Date.now()) {
    this.queue = queue;
    this.lastPullTimestamp = now;
    this.lastConsumeTimestamp = now;
  }

  /** Messages held. */
  get count(): number {
    return this.#messages.size;
  }

  /** Body bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Distance between the lowest and highest offset held (Java `getMaxSpan`). */
  get maxSpan(): number {
    if (this.#messages.size === 0) return 0;
    return this.#lastInserted - this.#firstKey();
  }

  /** Lowest offset held, or -1. */
  get minOffset(): number {
    return this.#messages.size === 0 ? -1 : this.#firstKey();
  }

  /** Adds pulled messages; returns how many were new. */
  put(messages: readonly ReceivedMessage[]): number {
    let added = 0;
    let outOfOrder = false;
    for (const message of messages) {
      const offset = message.queueOffset;
      if (this.#messages.has(offset)) continue;
      if (offset < this.#lastInserted) outOfOrder = true;
      this.#messages.set(offset, message);
      this.#bytes += message.body.length;
      if (offset > this.#lastInserted) this.#lastInserted = offset;
      added++;
    }
    if (outOfOrder) this.#messages = new Map([...this.#messages].sort((a, b) => a[0] - b[0]));
    if (messages.length > 0) {
      this.queueOffsetMax = Math.max(this.queueOffsetMax, messages[messages.length - 1].queueOffset);
    }
    return added;
  }

  /**
   * Removes consumed messages (concurrent consumption) and returns the offset to commit: the
   * lowest offset still held, or one past the highest ever put; -1 if nothing was held.
   */
  remove(messages: readonly ReceivedMessage[]): number {
    if (this.#messages.size === 0) return -1;
    for (const message of messages) {
      const held = this.#messages.get(message.queueOffset);
      if (held === undefined) continue;
      this.#messages.delete(message.queueOffset);
      this.#bytes -= held.body.length;
    }
    return this.#messages.size > 0 ? this.#firstKey() : this.queueOffsetMax + 1;
  }

  /** Orderly: takes up to `max` messages after the ones already taken, in offset order. */
  take(max: number): ReceivedMessage[] {
    const out: ReceivedMessage[] = [];
    let index = 0;
    for (const message of this.#messages.values()) {
      if (index++ < this.#taken) continue;
      if (out.length >= max) break;
      out.push(message);
    }
    this.#taken += out.length;
    return out;
  }

  /** Orderly: messages held and not taken. */
  get untaken(): number {
    return this.#messages.size - this.#taken;
  }

  /** Orderly: removes the taken messages; returns one past the last of them, or -1. */
  commit(): number {
    if (this.#taken === 0) return -1;
    let last = -1;
    let removed = 0;
    for (const [offset, message] of this.#messages) {
      if (removed === this.#taken) break;
      this.#messages.delete(offset);
      this.#bytes -= message.body.length;
      last = offset;
      removed++;
    }
    assert(removed === this.#taken, `ProcessQueue.commit() removed ${removed} of ${this.#taken} taken messages`);
    this.#taken = 0;
    return last + 1;
  }

  /** Orderly: puts the taken messages back (they are consumed again, in order). */
  rollback(): void {
    this.#taken = 0;
  }

  /** Drops every message (queue reassigned or offsets reset). */
  clear(): void {
    this.#messages.clear();
    this.#bytes = 0;
    this.#taken = 0;
  }

  /** Whether the broker lock may have lapsed. */
  isLockExpired(now = Date.now()): boolean {
    return now - this.lastLockTimestamp > LOCK_MAX_LIVE_MS;
  }

  /** Whether the pull loop looks stuck. */
  isPullExpired(now = Date.now()): boolean {
    return now - this.lastPullTimestamp > PULL_MAX_IDLE_MS;
  }

  /** `ProcessQueueInfo` JSON (GET_CONSUMER_RUNNING_INFO), fields in fastjson order. */
  info(commitOffset: number): Record<string, unknown> {
    const empty = this.#messages.size === 0;
    return {
      cachedMsgCount: this.#messages.size,
      cachedMsgMaxOffset: empty ? 0 : this.#lastInserted,
      cachedMsgMinOffset: empty ? 0 : this.#firstKey(),
      cachedMsgSizeInMiB: Math.floor(this.#bytes / (1024 * 1024)),
      commitOffset,
      droped: this.dropped,
      lastConsumeTimestamp: this.lastConsumeTimestamp,
      lastLockTimestamp: this.lastLockTimestamp,
      lastPullTimestamp: this.lastPullTimestamp,
      locked: this.locked,
      transactionMsgCount: this.#taken,
      transactionMsgMaxOffset: 0,
      transactionMsgMinOffset: 0,
      tryUnlockTimes: this.tryUnlockTimes,
    };
  }

  #firstKey(): number {
    return this.#messages.keys().next().value as number;
  }
}
