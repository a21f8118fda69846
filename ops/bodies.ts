/**
 * Readers of the admin reply bodies, in RocketMQ 4.9.x's shapes (fastjson with `MessageQueue`
 * object keys): TopicStatsTable, ConsumeStats, QueryConsumeTimeSpanBody, ConsumerConnection,
 * KVTable, GroupList, ResetOffsetBody, SubscriptionGroupWrapper, TopicList, BrokerStatsData.
 * Missing fields read as defaults, so older or newer peers still parse.
 *
 * @module
 */

import {
  decodeJsonBody,
  readSubscriptionGroupConfig,
  type SubscriptionGroupConfig,
  subscriptionGroupJson,
} from "../protocol/bodies.ts";

/** A queue of a topic on a broker (`MessageQueue.java`). */
export interface QueueRef {
  topic: string;
  brokerName: string;
  queueId: number;
}

/** TopicStatsTable entry. */
export interface TopicQueueOffsets extends QueueRef {
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

/** ConsumeStats entry. */
export interface ConsumeQueueOffsets extends QueueRef {
  brokerOffset: number;
  consumerOffset: number;
  /** Store time of the last consumed message; 0 when none. */
  lastTimestamp: number;
}

/** ConsumeStats. */
export interface ConsumeStats {
  consumeTps: number;
  queues: ConsumeQueueOffsets[];
}

/** QueueTimeSpan. */
export interface QueueTimeSpan extends QueueRef {
  minTimeStamp: number;
  maxTimeStamp: number;
  consumeTimeStamp: number;
  /** Milliseconds between now and the store time of the first unconsumed message; 0 when caught up. */
  delayTime: number;
}

/** One client connection (`Connection.java`). */
export interface ClientConnection {
  clientId: string;
  clientAddr: string;
  language: string;
  version: number;
}

/** A subscription as a connection list reports it. */
export interface SubscriptionView {
  topic: string;
  subString: string;
  expressionType: string;
}

/** ConsumerConnection. */
export interface ConsumerConnection {
  connections: ClientConnection[];
  subscriptions: SubscriptionView[];
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
}

/** SubscriptionGroupConfig (shared with the broker, in `protocol/bodies.ts`). */
export type GroupConfig = SubscriptionGroupConfig;

/** StatsSnapshot of BrokerStatsData. */
export interface StatsWindow {
  sum: number;
  tps: number;
  avgpt: number;
}

/** BrokerStatsData. */
export interface BrokerStatsData {
  minute: StatsWindow;
  hour: StatsWindow;
  day: StatsWindow;
}

function object(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Map)
    ? value as Record<string, unknown>
    : {};
}

function num(value: unknown, fallback = 0): number {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : fallback;
}

function str(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : value === undefined || value === null ? fallback : String(value);
}

function queueRef(value: unknown): QueueRef {
  const o = object(value);
  return { topic: str(o.topic), brokerName: str(o.brokerName), queueId: num(o.queueId) };
}

/** Entries of a fastjson `Map<MessageQueue, V>`: a JS Map after lenient parsing, `{}` when empty. */
function queueEntries(table: unknown): [QueueRef, unknown][] {
  if (table instanceof Map) return [...table].map(([k, v]) => [queueRef(k), v]);
  return [];
}

function body(bytes: Uint8Array | undefined, what: string): Record<string, unknown> {
  return object(decodeJsonBody(bytes, what));
}

function byQueue(a: QueueRef, b: QueueRef): number {
  return a.topic.localeCompare(b.topic) || a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId;
}

/** Reads a TopicStatsTable (GET_TOPIC_STATS_INFO). */
export function readTopicStatsTable(bytes: Uint8Array | undefined): TopicQueueOffsets[] {
  return queueEntries(body(bytes, "topic stats").offsetTable).map(([mq, v]) => {
    const o = object(v);
    return {
      ...mq,
      minOffset: num(o.minOffset),
      maxOffset: num(o.maxOffset),
      lastUpdateTimestamp: num(o.lastUpdateTimestamp),
    };
  }).sort(byQueue);
}

/** Reads ConsumeStats (GET_CONSUME_STATS). */
export function readConsumeStats(bytes: Uint8Array | undefined): ConsumeStats {
  const o = body(bytes, "consume stats");
  return {
    consumeTps: num(o.consumeTps),
    queues: queueEntries(o.offsetTable).map(([mq, v]) => {
      const w = object(v);
      return {
        ...mq,
        brokerOffset: num(w.brokerOffset),
        consumerOffset: num(w.consumerOffset),
        lastTimestamp: num(w.lastTimestamp),
      };
    }).sort(byQueue),
  };
}

/** Reads QueryConsumeTimeSpanBody (QUERY_CONSUME_TIME_SPAN). */
export function readConsumeTimeSpans(bytes: Uint8Array | undefined): QueueTimeSpan[] {
  const set = body(bytes, "consume time span").consumeTimeSpanSet;
  return (Array.isArray(set) ? set : []).map((item) => {
    const o = object(item);
    return {
      ...queueRef(o.messageQueue),
      minTimeStamp: num(o.minTimeStamp),
      maxTimeStamp: num(o.maxTimeStamp),
      consumeTimeStamp: num(o.consumeTimeStamp),
      delayTime: num(o.delayTime),
    };
  });
}

/** Reads ConsumerConnection (GET_CONSUMER_CONNECTION_LIST). */
export function readConsumerConnection(bytes: Uint8Array | undefined): ConsumerConnection {
  const o = body(bytes, "consumer connection");
  const set = Array.isArray(o.connectionSet) ? o.connectionSet : [];
  const subscriptions = Object.entries(object(o.subscriptionTable)).map(([topic, sub]) => {
    const s = object(sub);
    return {
      topic: str(s.topic, topic),
      subString: str(s.subString, "*"),
      expressionType: str(s.expressionType, "TAG"),
    };
  }).sort((a, b) => a.topic.localeCompare(b.topic));
  return {
    connections: set.map(readConnection).sort((a, b) => a.clientId.localeCompare(b.clientId)),
    subscriptions,
    consumeType: str(o.consumeType),
    messageModel: str(o.messageModel),
    consumeFromWhere: str(o.consumeFromWhere),
  };
}

/** Reads the connection list of ProducerConnection (GET_PRODUCER_CONNECTION_LIST). */
export function readProducerConnection(bytes: Uint8Array | undefined): ClientConnection[] {
  const set = body(bytes, "producer connection").connectionSet;
  return (Array.isArray(set) ? set : []).map(readConnection).sort((a, b) => a.clientId.localeCompare(b.clientId));
}

function readConnection(value: unknown): ClientConnection {
  const c = object(value);
  return {
    clientId: str(c.clientId),
    clientAddr: str(c.clientAddr),
    language: str(c.language),
    version: num(c.version),
  };
}

/** Reads a KVTable (GET_BROKER_RUNTIME_INFO). */
export function readKvTable(bytes: Uint8Array | undefined): Record<string, string> {
  const table = object(body(bytes, "runtime info").table);
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [k, str(v)]));
}

/** Reads a GroupList (QUERY_TOPIC_CONSUME_BY_WHO). */
export function readGroupList(bytes: Uint8Array | undefined): string[] {
  const list = body(bytes, "group list").groupList;
  return (Array.isArray(list) ? list.map((g) => str(g)) : []).sort();
}

/** Reads a TopicList (GET_ALL_TOPIC_LIST_FROM_NAMESERVER). */
export function readTopicList(bytes: Uint8Array | undefined): string[] {
  const list = body(bytes, "topic list").topicList;
  return (Array.isArray(list) ? list.map((t) => str(t)) : []).sort();
}

/** Reads a ResetOffsetBody (INVOKE_BROKER_TO_RESET_OFFSET). */
export function readResetOffsetBody(bytes: Uint8Array | undefined): (QueueRef & { offset: number })[] {
  if (!bytes || bytes.length === 0) return [];
  return queueEntries(body(bytes, "reset offset").offsetTable).map(([mq, v]) => ({ ...mq, offset: num(v) }))
    .sort(byQueue);
}

/** Reads one SubscriptionGroupConfig. */
export function readGroupConfig(value: unknown, name = ""): GroupConfig {
  return readSubscriptionGroupConfig(value, name);
}

/** A SubscriptionGroupConfig in fastjson's field order (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP body). */
export const groupConfigJson = subscriptionGroupJson;

/** Reads a SubscriptionGroupWrapper (GET_ALL_SUBSCRIPTIONGROUP_CONFIG). */
export function readSubscriptionGroupWrapper(bytes: Uint8Array | undefined): GroupConfig[] {
  const table = object(body(bytes, "subscription groups").subscriptionGroupTable);
  return Object.entries(table).map(([name, v]) => readGroupConfig(v, name))
    .sort((a, b) => a.groupName.localeCompare(b.groupName));
}

/** Reads BrokerStatsData (VIEW_BROKER_STATS_DATA). */
export function readBrokerStatsData(bytes: Uint8Array | undefined): BrokerStatsData {
  const o = body(bytes, "broker stats");
  const w = (v: unknown): StatsWindow => {
    const s = object(v);
    return { sum: num(s.sum), tps: num(s.tps), avgpt: num(s.avgpt) };
  };
  return { minute: w(o.statsMinute), hour: w(o.statsHour), day: w(o.statsDay) };
}
