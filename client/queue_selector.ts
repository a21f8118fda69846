/**
 * Queue selectors for ordered sends: every message with the same sharding key goes to the same
 * queue, so a consumer sees them in send order. {@linkcode selectByHash} picks the same queue as
 * Java's `SelectMessageQueueByHash` for string keys and `long` keys, so Java and TypeScript
 * producers of one topic agree.
 *
 * @module
 */

import { javaStringHashCode } from "../protocol/message.ts";
import type { Message, MessageQueue } from "./message.ts";

/** A sharding key: a string (Java `String`), or an integer (Java `long`). */
export type ShardingKey = string | number | bigint;

/** Picks a queue for `message` from the topic's writable queues. */
export type QueueSelector = (queues: readonly MessageQueue[], message: Message, key: ShardingKey) => MessageQueue;

/**
 * Java `hashCode()` of a key: `String.hashCode` for strings, `Long.hashCode` (`(int)(v ^ v >>> 32)`)
 * for integers.
 *
 * @throws {RangeError} for a number that is not a safe integer.
 */
export function shardingKeyHash(key: ShardingKey): number {
  if (typeof key === "string") return javaStringHashCode(key);
  if (typeof key === "number" && !Number.isSafeInteger(key)) {
    throw new RangeError(`Cannot hash sharding key ${key}: a number key must be a safe integer`);
  }
  const v = BigInt.asUintN(64, BigInt(key));
  return Number(BigInt.asIntN(32, v ^ (v >> 32n)));
}

/**
 * Java `SelectMessageQueueByHash`: `abs(hash % queueCount)`.
 *
 * @example
 * ```ts
 * import { selectByHash } from "./queue_selector.ts";
 *
 * const queues = [0, 1, 2, 3].map((queueId) => ({ topic: "orders", brokerName: "broker-a", queueId }));
 * const message = { topic: "orders", body: "paid" };
 * console.assert(selectByHash(queues, message, "order-42") === selectByHash(queues, message, "order-42"));
 * ```
 */
export function selectByHash(queues: readonly MessageQueue[], _message: Message, key: ShardingKey): MessageQueue {
  if (queues.length === 0) throw new RangeError("Cannot select a queue: the topic has no writable queue");
  const value = shardingKeyHash(key) % queues.length;
  return queues[Math.abs(value)];
}

/** Java `SelectMessageQueueByRandom`. */
export function selectRandom(queues: readonly MessageQueue[]): MessageQueue {
  if (queues.length === 0) throw new RangeError("Cannot select a queue: the topic has no writable queue");
  return queues[Math.floor(Math.random() * queues.length)];
}
