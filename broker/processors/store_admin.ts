/**
 * Store inspection and housekeeping: QUERY_CONSUME_QUEUE (321, `mqadmin queryCq`),
 * GET_SYSTEM_TOPIC_LIST_FROM_BROKER (305), CLEAN_EXPIRED_CONSUMEQUEUE (306),
 * CLEAN_UNUSED_TOPIC (316) and DELETE_EXPIRED_COMMITLOG (329).
 *
 * The housekeeping codes answer SUCCESS, as RocketMQ's do, after doing what this store supports:
 * consume queues are already trimmed below the commit-log minimum by every retention pass (306
 * has nothing left to do); queues of topics the broker no longer has are dropped (316); and 329
 * runs a retention pass now — by `fileReservedTime`/`deleteWhen` and disk use, without
 * RocketMQ's manual override of the hour.
 *
 * @module
 */

import { encodeJsonBody, topicListJson } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { subscriptionJson } from "../clients.ts";
import { BrokerError } from "../errors.ts";
import { SCHEDULE_TOPIC, systemTopicNames, TRANS_OP_HALF_TOPIC } from "../topics.ts";
import type { BrokerServices } from "./context.ts";

/** Consume-queue units one QUERY_CONSUME_QUEUE returns, whatever `count` asks (mqadmin asks 10). */
const QUERY_CONSUME_QUEUE_UNITS_MAX = 2000;

/** Handles QUERY_CONSUME_QUEUE: `count` units of a consume queue from `index`, with the group's subscription. */
export function handleQueryConsumeQueue(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const h = readHeader(
    "QUERY_CONSUME_QUEUE header",
    { topic: "string", queueId: "int", index: "long", count: "int", consumerGroup: "string?" },
    request.extFields,
  );
  if (!s.store.queues().get(h.topic)?.includes(h.queueId)) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, `${h.queueId}@${h.topic} is not exist!`);
  }
  const body: Record<string, unknown> = {
    maxQueueIndex: s.store.maxQueueOffset(h.topic, h.queueId),
    minQueueIndex: s.store.minQueueOffset(h.topic, h.queueId),
  };
  if (h.consumerGroup !== undefined) {
    const sub = s.consumers.findSubscription(h.consumerGroup, h.topic);
    if (sub) {
      body.subscriptionData = subscriptionJson(sub);
      // RocketMQ prints the group's SQL92 filter data here; tag subscriptions have none.
      body.filterData = "null";
    } else {
      body.filterData = `${h.consumerGroup}@${h.topic} is not online!`;
    }
  }
  if (h.index < (body.minQueueIndex as number) || h.index >= (body.maxQueueIndex as number)) {
    return createResponse(request, ResponseCode.SUCCESS, {
      remark: `Index ${h.index} of ${h.queueId}@${h.topic} is not exist!`,
    });
  }
  const count = Math.max(0, Math.min(h.count, QUERY_CONSUME_QUEUE_UNITS_MAX));
  body.queueData = s.store.getQueueUnits(h.topic, h.queueId, h.index, count).map((unit) => ({
    eval: false,
    physicOffset: unit.commitLogOffset,
    physicSize: unit.size,
    tagsCode: unit.tagsCode,
  }));
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(sortKeys(body)) });
}

/** Fields in fastjson's (alphabetical) order. */
function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/** Handles GET_SYSTEM_TOPIC_LIST_FROM_BROKER: the topics RocketMQ reserves by name. */
export function handleGetSystemTopicListFromBroker(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, {
    body: encodeJsonBody(topicListJson(systemTopicNames(s.config))),
  });
}

/** Handles CLEAN_EXPIRED_CONSUMEQUEUE: retention already trims consume queues with the commit log. */
export function handleCleanExpiredConsumeQueue(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  s.log.info("CLEAN_EXPIRED_CONSUMEQUEUE: consume queues are trimmed by every retention pass; nothing to do");
  return createResponse(request, ResponseCode.SUCCESS);
}

/** Handles CLEAN_UNUSED_TOPIC: drops the consume queues of topics the broker no longer has. */
export async function handleCleanUnusedTopic(request: RemotingCommand, s: BrokerServices): Promise<RemotingCommand> {
  const dropped: string[] = [];
  for (const topic of s.store.queues().keys()) {
    if (s.topics.get(topic) || topic === SCHEDULE_TOPIC || topic === TRANS_OP_HALF_TOPIC) continue;
    await s.store.deleteTopic(topic);
    dropped.push(topic);
  }
  s.log.info("CLEAN_UNUSED_TOPIC dropped the consume queues of {count} topics: {topics}", {
    count: dropped.length,
    topics: dropped.join(", "),
  });
  return createResponse(request, ResponseCode.SUCCESS);
}

/** A store that can run its retention pass on demand (the file store can). */
interface RetentionRunner {
  runRetention(): number;
}

function canRunRetention(store: unknown): store is RetentionRunner {
  return typeof (store as Partial<RetentionRunner>).runRetention === "function";
}

/** Handles DELETE_EXPIRED_COMMITLOG: runs a retention pass now, where the store has one. */
export function handleDeleteExpiredCommitLog(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  if (canRunRetention(s.store)) {
    const deleted = s.store.runRetention();
    s.log.info("DELETE_EXPIRED_COMMITLOG: retention deleted {deleted} commit-log segments", { deleted });
  } else {
    s.log.info("DELETE_EXPIRED_COMMITLOG: this store keeps no commit-log files; nothing to do");
  }
  return createResponse(request, ResponseCode.SUCCESS);
}
