/**
 * Client-side rebalancing: which queues of a topic this group member consumes.
 *
 * Every member sorts the topic's readable queues (by topic, broker name, queue id) and the
 * group's client ids (lexicographically), then applies the same strategy, so all members reach
 * the same split without talking to each other. {@linkcode allocateAveragely} is Java's default
 * `AllocateMessageQueueAveragely`, line for line, so groups mixing Java and TypeScript members
 * agree. Broadcasting members take every queue.
 *
 * The consumer decides when to run it: every 20 s and when the broker sends
 * NOTIFY_CONSUMER_IDS_CHANGED.
 *
 * @module
 */

import { errorText, type Logger } from "./_log.ts";
import type { MessageModel } from "./client_instance.ts";
import { compareQueues, type MessageQueue, queueKey } from "./message.ts";

/**
 * Picks this client's share of `queues`. Both lists arrive sorted; the result must be a subset
 * of `queues`.
 */
export type AllocateStrategy = (
  group: string,
  clientId: string,
  queues: readonly MessageQueue[],
  clientIds: readonly string[],
) => MessageQueue[];

function checkAllocateInput(clientId: string, queues: readonly MessageQueue[], clientIds: readonly string[]): boolean {
  if (clientId === "") throw new TypeError("Cannot allocate queues: the client id is empty");
  if (queues.length === 0) throw new TypeError("Cannot allocate queues: the queue list is empty");
  if (clientIds.length === 0) throw new TypeError("Cannot allocate queues: the client id list is empty");
  // Java logs "[BUG]" and allocates nothing: the broker does not know us yet.
  return clientIds.includes(clientId);
}

/**
 * Java `AllocateMessageQueueAveragely`: consecutive blocks, the first `Q % C` clients taking one
 * extra queue. With 8 queues and 3 clients: `[0,1,2]`, `[3,4,5]`, `[6,7]`.
 *
 * @throws {TypeError} for an empty client id, queue list or client list.
 *
 * @example
 * ```ts
 * import { allocateAveragely } from "./rebalance.ts";
 *
 * const queues = Array.from({ length: 8 }, (_, queueId) => ({ topic: "t", brokerName: "b", queueId }));
 * const mine = allocateAveragely("g", "c2", queues, ["c1", "c2", "c3"]);
 * console.assert(mine.map((q) => q.queueId).join() === "3,4,5");
 * ```
 */
export function allocateAveragely(
  _group: string,
  clientId: string,
  queues: readonly MessageQueue[],
  clientIds: readonly string[],
): MessageQueue[] {
  if (!checkAllocateInput(clientId, queues, clientIds)) return [];
  const index = clientIds.indexOf(clientId);
  const mod = queues.length % clientIds.length;
  const averageSize = queues.length <= clientIds.length
    ? 1
    : mod > 0 && index < mod
    ? Math.floor(queues.length / clientIds.length) + 1
    : Math.floor(queues.length / clientIds.length);
  const startIndex = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod;
  const range = Math.min(averageSize, queues.length - startIndex);
  const result: MessageQueue[] = [];
  for (let i = 0; i < range; i++) result.push(queues[(startIndex + i) % queues.length]);
  return result;
}

/**
 * Java `AllocateMessageQueueAveragelyByCircle`: queue `i` goes to client `i % C`.
 *
 * @throws {TypeError} for an empty client id, queue list or client list.
 */
export function allocateAveragelyByCircle(
  _group: string,
  clientId: string,
  queues: readonly MessageQueue[],
  clientIds: readonly string[],
): MessageQueue[] {
  if (!checkAllocateInput(clientId, queues, clientIds)) return [];
  const index = clientIds.indexOf(clientId);
  return queues.filter((_, i) => i % clientIds.length === index);
}

/** What {@linkcode computeAssignment} needs to know about the cluster. */
export interface AssignmentSource {
  /** Readable queues of the topic, or undefined if its route is unknown. */
  subscribeQueues(topic: string): Promise<readonly MessageQueue[] | undefined>;
  /** Client ids of the group, or undefined if no broker answered. */
  consumerIds(topic: string): Promise<readonly string[] | undefined>;
}

/** Inputs of {@linkcode computeAssignment}. */
export interface AssignmentRequest {
  topic: string;
  group: string;
  clientId: string;
  model: MessageModel;
  strategy: AllocateStrategy;
}

/**
 * This member's queues of `topic`: all of them when broadcasting; the strategy's share of the
 * sorted lists when clustering. Undefined when the cluster could not be asked (keep the current
 * assignment then).
 *
 * @throws {Error} when the strategy returns a queue that is not in the list.
 */
export async function computeAssignment(
  request: AssignmentRequest,
  source: AssignmentSource,
): Promise<MessageQueue[] | undefined> {
  const queues = await source.subscribeQueues(request.topic);
  if (!queues) return undefined;
  if (request.model === "BROADCASTING") return [...queues];
  const ids = await source.consumerIds(request.topic);
  if (!ids || ids.length === 0 || queues.length === 0) return undefined;
  const sortedQueues = [...queues].sort(compareQueues);
  const sortedIds = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const result = request.strategy(request.group, request.clientId, sortedQueues, sortedIds);
  const known = new Set(sortedQueues.map(queueKey));
  for (const queue of result) {
    if (!known.has(queueKey(queue))) {
      throw new Error(
        `Cannot rebalance topic "${request.topic}": the allocation strategy returned a queue not in the list`,
      );
    }
  }
  return result;
}

/** What {@linkcode rebalanceTopics} needs from the client instance. */
export interface RebalanceHost {
  routes: { subscribeQueues(topic: string): MessageQueue[] | undefined; update(topic: string): Promise<unknown> };
  consumerIds(topic: string, group: string): Promise<readonly string[] | undefined>;
  logger: Logger;
}

/**
 * Recomputes this client's queues for each topic (fetching a route first if unknown) and hands
 * each assignment to `apply`; a topic that fails is logged and the others still rebalance.
 */
export async function rebalanceTopics(
  host: RebalanceHost,
  request: Omit<AssignmentRequest, "topic">,
  topics: Iterable<string>,
  apply: (topic: string, assigned: MessageQueue[]) => Promise<void>,
): Promise<void> {
  const source: AssignmentSource = {
    subscribeQueues: async (topic) => {
      if (!host.routes.subscribeQueues(topic)) await host.routes.update(topic);
      return host.routes.subscribeQueues(topic);
    },
    consumerIds: (topic) => host.consumerIds(topic, request.group),
  };
  for (const topic of topics) {
    try {
      const assigned = await computeAssignment({ ...request, topic }, source);
      if (assigned) await apply(topic, assigned);
    } catch (error) {
      host.logger.warn("Cannot rebalance topic", { group: request.group, topic, error: errorText(error) });
    }
  }
}
