/**
 * Topic and consumer statistics: GET_TOPIC_STATS_INFO (202, `mqadmin topicStatus`),
 * GET_CONSUME_STATS (208, `consumerProgress`), GET_BROKER_CONSUME_STATS (317),
 * QUERY_CONSUME_TIME_SPAN (303) and VIEW_BROKER_STATS_DATA (315, `statsAll`).
 *
 * Per-queue tables are keyed by MessageQueue and written in fastjson's object-key form. A
 * group's consume stats cover every topic it has committed offsets on — its `%RETRY%<group>`
 * queue included, as Java consumers commit there too — less the topics an online group no
 * longer subscribes to, as in RocketMQ 4.9.7.
 *
 * @module
 */

import { encodeJsonBody } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { BrokerError } from "../errors.ts";
import type { CounterTable, RateCounter } from "../stats.ts";
import { formatJavaDate, type MessageQueueKey, messageQueueKey, storeTimeAt } from "./_admin_util.ts";
import type { BrokerServices } from "./context.ts";

/** `OffsetWrapper.java` (fields alphabetical). */
interface OffsetWrapper {
  brokerOffset: number;
  consumerOffset: number;
  lastTimestamp: number;
}

/** `ConsumeStats.java`. */
interface ConsumeStats {
  consumeTps: number;
  offsetTable: Map<MessageQueueKey, OffsetWrapper>;
}

/** Handles GET_TOPIC_STATS_INFO: min, max and last store time of each write queue. */
export async function handleGetTopicStatsInfo(request: RemotingCommand, s: BrokerServices): Promise<RemotingCommand> {
  const { topic } = readHeader("GET_TOPIC_STATS_INFO header", { topic: "string" }, request.extFields);
  const config = s.topics.get(topic);
  if (!config) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist`);
  const offsetTable = new Map<MessageQueueKey, Record<string, number>>();
  for (let queueId = 0; queueId < config.writeQueueNums; queueId++) {
    const min = Math.max(0, s.store.minQueueOffset(topic, queueId));
    const max = Math.max(0, s.store.maxQueueOffset(topic, queueId));
    const last = max > 0 ? await storeTimeAt(s.store, topic, queueId, max - 1) : 0;
    offsetTable.set(messageQueueKey(topic, s.config.brokerName, queueId), {
      lastUpdateTimestamp: last,
      maxOffset: max,
      minOffset: min,
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody({ offsetTable }) });
}

/**
 * The topics whose stats a group's reply covers: the given one, or every topic it committed on;
 * an online group's unsubscribed topics are skipped (RocketMQ `findSubscriptionDataCount`).
 */
function statsTopics(s: BrokerServices, group: string, topic: string | undefined): string[] {
  const topics = topic && topic.trim() !== "" ? [topic] : s.offsets.topicsOfGroup(group);
  const online = s.consumers.get(group);
  return topics.filter((t) => {
    if (!s.topics.get(t)) return false;
    return !online || online.subscriptions.size === 0 || online.subscriptions.has(t);
  });
}

/** Per-minute TPS of a counter, 0 when it was never created. */
function minuteTps(table: CounterTable, key: string, nowMs: number): number {
  const counter: RateCounter | undefined = table.find(key);
  return counter ? counter.window("minute", nowMs).tps : 0;
}

/** One topic's consume stats for a group, over `queueCount` queues. */
async function topicConsumeStats(
  s: BrokerServices,
  group: string,
  topic: string,
  queueCount: number,
  into: ConsumeStats,
): Promise<void> {
  for (let queueId = 0; queueId < queueCount; queueId++) {
    const brokerOffset = Math.max(0, s.store.maxQueueOffset(topic, queueId));
    const consumerOffset = Math.max(0, s.offsets.query(group, topic, queueId));
    const lastTime = consumerOffset > 0 ? await storeTimeAt(s.store, topic, queueId, consumerOffset - 1) : -1;
    into.offsetTable.set(messageQueueKey(topic, s.config.brokerName, queueId), {
      brokerOffset,
      consumerOffset,
      lastTimestamp: lastTime > 0 ? lastTime : 0,
    });
  }
  into.consumeTps += minuteTps(s.stats.getByTopicGroup, `${topic}@${group}`, s.now());
}

/** Handles GET_CONSUME_STATS: broker and consumer offsets of each read queue of the group's topics. */
export async function handleGetConsumeStats(request: RemotingCommand, s: BrokerServices): Promise<RemotingCommand> {
  const h = readHeader("GET_CONSUME_STATS header", { consumerGroup: "string", topic: "string?" }, request.extFields);
  const stats: ConsumeStats = { consumeTps: 0, offsetTable: new Map() };
  for (const topic of statsTopics(s, h.consumerGroup, h.topic)) {
    await topicConsumeStats(s, h.consumerGroup, topic, s.topics.get(topic)!.readQueueNums, stats);
  }
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(stats) });
}

/** Handles GET_BROKER_CONSUME_STATS: every group's consume stats per topic, and the total lag. */
export async function handleGetBrokerConsumeStats(
  request: RemotingCommand,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const { isOrder } = readHeader("GET_BROKER_CONSUME_STATS header", { isOrder: "boolean" }, request.extFields);
  const consumeStatsList: Map<string, ConsumeStats[]>[] = [];
  let totalDiff = 0;
  for (const { groupName } of [...s.groups.all()]) {
    const list: ConsumeStats[] = [];
    for (const topic of statsTopics(s, groupName, undefined)) {
      const config = s.topics.get(topic)!;
      if (isOrder && !config.order) continue;
      const stats: ConsumeStats = { consumeTps: 0, offsetTable: new Map() };
      // RocketMQ walks the write queues here (and the read queues in GET_CONSUME_STATS).
      await topicConsumeStats(s, groupName, topic, config.writeQueueNums, stats);
      for (const o of stats.offsetTable.values()) totalDiff += o.brokerOffset - o.consumerOffset;
      list.push(stats);
    }
    consumeStatsList.push(new Map([[groupName, list]]));
  }
  return createResponse(request, ResponseCode.SUCCESS, {
    body: encodeJsonBody({ brokerAddr: s.brokerAddr, consumeStatsList, totalDiff }),
  });
}

/** Handles QUERY_CONSUME_TIME_SPAN: store times of each write queue's first, last and next-to-consume message. */
export async function handleQueryConsumeTimeSpan(
  request: RemotingCommand,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const h = readHeader("QUERY_CONSUME_TIME_SPAN header", { topic: "string", group: "string" }, request.extFields);
  const config = s.topics.get(h.topic);
  if (!config) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist`);
  const now = s.now();
  const consumeTimeSpanSet: Record<string, unknown>[] = [];
  for (let queueId = 0; queueId < config.writeQueueNums; queueId++) {
    const bounds = await s.store.queueStoreTimeBounds(h.topic, queueId);
    const max = s.store.maxQueueOffset(h.topic, queueId);
    const consumerOffset = s.offsets.query(h.group, h.topic, queueId);
    const consumeTime = consumerOffset > 0
      ? await storeTimeAt(s.store, h.topic, queueId, consumerOffset - 1)
      : bounds.earliestMs;
    let delayTime = 0;
    if (consumerOffset < max) {
      // The next message to consume; a group that never committed starts at the queue's minimum.
      const next = Math.max(consumerOffset, s.store.minQueueOffset(h.topic, queueId));
      const nextTime = await storeTimeAt(s.store, h.topic, queueId, next);
      if (nextTime >= 0) delayTime = now - nextTime;
    }
    consumeTimeSpanSet.push({
      consumeTimeStamp: consumeTime,
      consumeTimeStampStr: formatJavaDate(consumeTime),
      delayTime,
      maxTimeStamp: bounds.latestMs,
      maxTimeStampStr: formatJavaDate(bounds.latestMs),
      messageQueue: messageQueueKey(h.topic, s.config.brokerName, queueId),
      minTimeStamp: bounds.earliestMs,
      minTimeStampStr: formatJavaDate(bounds.earliestMs),
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody({ consumeTimeSpanSet }) });
}

/** The counter behind a RocketMQ stats name and key, or undefined when there is none. */
function findStatsCounter(s: BrokerServices, statsName: string, statsKey: string): RateCounter | undefined {
  const stats = s.stats;
  switch (statsName) {
    case "TOPIC_PUT_NUMS":
      return stats.putByTopic.find(statsKey);
    case "TOPIC_PUT_SIZE":
      return stats.putBytesByTopic.find(statsKey);
    case "GROUP_GET_NUMS":
      return stats.getByTopicGroup.find(statsKey);
    case "GROUP_GET_SIZE":
      return stats.getBytesByTopicGroup.find(statsKey);
    case "BROKER_PUT_NUMS":
      return statsKey === s.config.brokerClusterName ? stats.putMessages : undefined;
    case "BROKER_GET_NUMS":
      return statsKey === s.config.brokerClusterName ? stats.getMessages : undefined;
    default:
      return undefined;
  }
}

/**
 * Handles VIEW_BROKER_STATS_DATA: a counter's sum, TPS and average per add over the last
 * minute, hour and day. Served names: TOPIC_PUT_NUMS/SIZE (key topic), GROUP_GET_NUMS/SIZE
 * (key `topic@group`), BROKER_PUT/GET_NUMS (key cluster name).
 */
export function handleViewBrokerStatsData(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const h = readHeader(
    "VIEW_BROKER_STATS_DATA header",
    { statsName: "string", statsKey: "string" },
    request.extFields,
  );
  const counter = findStatsCounter(s, h.statsName, h.statsKey);
  if (!counter) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, `The stats <${h.statsName}> <${h.statsKey}> not exist`);
  }
  const now = s.now();
  const item = (span: "minute" | "hour" | "day") => {
    const w = counter.window(span, now);
    return { avgpt: w.avgpt, sum: Math.round(w.sum), tps: w.tps };
  };
  return createResponse(request, ResponseCode.SUCCESS, {
    body: encodeJsonBody({ statsDay: item("day"), statsHour: item("hour"), statsMinute: item("minute") }),
  });
}
