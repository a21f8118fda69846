/**
 * Queue locks for orderly consumers (RocketMQ `RebalanceLockManager`): within a group, each queue
 * is locked by at most one client; a lock not renewed within `lockMaxLiveTimeMs` (60 s) expires,
 * so a crashed consumer's queues move on.
 *
 * @module
 */

/** A message queue as clients name it. */
export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

interface LockEntry {
  clientId: string;
  lastUpdateMs: number;
}

/** Locks held across all groups: a bound on memory. */
export const LOCKS_MAX = 1_000_000;

function keyOf(mq: MessageQueue): string {
  return `${mq.topic}\u0001${mq.brokerName}\u0001${mq.queueId}`;
}

/** Group → queue → holder. */
export class RebalanceLockManager {
  readonly #groups = new Map<string, Map<string, LockEntry>>();
  readonly #lockMaxLiveTimeMs: number;
  readonly #now: () => number;
  #count = 0;

  constructor(options: { lockMaxLiveTimeMs?: number; now?: () => number } = {}) {
    this.#lockMaxLiveTimeMs = options.lockMaxLiveTimeMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Locks what it can for `clientId`; returns the queues the client now holds. */
  tryLock(group: string, clientId: string, queues: MessageQueue[]): MessageQueue[] {
    const now = this.#now();
    let table = this.#groups.get(group);
    if (!table) this.#groups.set(group, table = new Map());
    const locked: MessageQueue[] = [];
    for (const mq of queues) {
      const key = keyOf(mq);
      const entry = table.get(key);
      if (!entry) {
        if (this.#count >= LOCKS_MAX) continue;
        table.set(key, { clientId, lastUpdateMs: now });
        this.#count++;
        locked.push(mq);
      } else if (entry.clientId === clientId || now - entry.lastUpdateMs > this.#lockMaxLiveTimeMs) {
        entry.clientId = clientId;
        entry.lastUpdateMs = now;
        locked.push(mq);
      }
    }
    if (table.size === 0) this.#groups.delete(group);
    return locked;
  }

  /** Releases the queues `clientId` holds among `queues`. */
  unlock(group: string, clientId: string, queues: MessageQueue[]): void {
    const table = this.#groups.get(group);
    if (!table) return;
    for (const mq of queues) {
      const key = keyOf(mq);
      if (table.get(key)?.clientId === clientId) {
        table.delete(key);
        this.#count--;
      }
    }
    if (table.size === 0) this.#groups.delete(group);
  }

  /** Whether `clientId` holds a live lock on `mq`. */
  isLockedBy(group: string, clientId: string, mq: MessageQueue): boolean {
    const entry = this.#groups.get(group)?.get(keyOf(mq));
    return !!entry && entry.clientId === clientId && this.#now() - entry.lastUpdateMs <= this.#lockMaxLiveTimeMs;
  }
}
