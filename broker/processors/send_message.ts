/**
 * SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320).
 *
 * Checks in RocketMQ 4.9.x's order (`AbstractSendMessageProcessor.msgCheck` and
 * `SendMessageProcessor`): accepting sends yet, broker permission, topic name, forbidden system
 * topics, topic existence (auto-created from the `defaultTopic` template, retry topics on
 * demand), queue id, then retry-topic redirection to the DLQ after max reconsume times. Bodies
 * and sysFlag are stored exactly as sent. The broker adds CLUSTER; WAIT becomes the flush wait and
 * leaves a single message's stored properties.
 *
 * @module
 */

import { Perm, type TopicConfig, TopicSysFlag } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { type Header, readHeader } from "../../protocol/header.ts";
import { propertiesBytesMax } from "../../protocol/limits.ts";
import {
  decodeBatchBody,
  encodeProperties,
  MessageProperty,
  MessageSysFlag,
  parseProperties,
  tagsHashCode,
} from "../../protocol/message.ts";
import { RequestCode } from "../../protocol/request_code.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { RequestContext } from "../../remoting/server.ts";
import {
  BrokerError,
  MessageIllegalError,
  NoPermissionError,
  putStatusResponse,
  TopicNotFoundError,
} from "../errors.ts";
import { indexKeysOf, type InnerMessage } from "../inner_message.ts";
import { prepareHalfMessage } from "../transactions.ts";
import { PutMessageStatus, type StoreBatchEntry } from "../store/store.ts";
import {
  DLQ_NUMS_PER_GROUP,
  dlqTopicOf,
  NOT_ALLOWED_SEND_TOPICS,
  RETRY_GROUP_TOPIC_PREFIX,
  topicNameProblem,
} from "../topics.ts";
import { bornHostOf, type BrokerServices } from "./context.ts";

/** SEND_MESSAGE's header (long field names). */
export const SEND_SCHEMA = {
  producerGroup: "string",
  topic: "string",
  defaultTopic: "string",
  defaultTopicQueueNums: "int",
  queueId: "int",
  sysFlag: "int",
  bornTimestamp: "long",
  flag: "int",
  properties: "string?",
  reconsumeTimes: "int?",
  unitMode: "boolean?",
  batch: "boolean?",
  maxReconsumeTimes: "int?",
} as const;

/** A send request's header, in the long names whatever the code. */
export type SendHeader = Header<typeof SEND_SCHEMA>;

/** SEND_MESSAGE_V2's one-letter names → the long names. */
const V2_NAMES: Record<string, keyof typeof SEND_SCHEMA> = {
  a: "producerGroup",
  b: "topic",
  c: "defaultTopic",
  d: "defaultTopicQueueNums",
  e: "queueId",
  f: "sysFlag",
  g: "bornTimestamp",
  h: "flag",
  i: "properties",
  j: "reconsumeTimes",
  k: "unitMode",
  l: "maxReconsumeTimes",
  m: "batch",
};

/** Request version from which `maxReconsumeTimes` in the header is honoured (V3_4_9). */
const MAX_RECONSUME_TIMES_VERSION_MIN = 121;
/** Messages in one batch: a bound on the work of one request. */
const BATCH_MESSAGES_MAX = 10_000;

/** Reads a send header: long names for SEND_MESSAGE and SEND_REPLY_MESSAGE, one-letter names otherwise. */
export function readSendHeader(request: RemotingCommand): SendHeader {
  if (request.code === RequestCode.SEND_MESSAGE || request.code === RequestCode.SEND_REPLY_MESSAGE) {
    return readHeader("SEND_MESSAGE header", SEND_SCHEMA, request.extFields);
  }
  // Looked up name by name: no entries array per send.
  const long: Record<string, string> = {};
  const fields = request.extFields;
  for (const short in V2_NAMES) {
    const value = fields[short];
    if (value !== undefined) long[V2_NAMES[short]] = value;
  }
  return readHeader("SEND_MESSAGE_V2 header", SEND_SCHEMA, long);
}

/**
 * The broker-level checks of every send (RocketMQ `msgCheck`, first half): accepting sends yet,
 * broker permission, the topic name and the forbidden system topics.
 */
export function checkSendAllowed(header: SendHeader, s: BrokerServices): void {
  const c = s.config;
  if (s.now() < c.startAcceptSendRequestTimeStamp) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `broker unable to service, until ${c.startAcceptSendRequestTimeStamp}`,
    );
  }
  if ((c.brokerPermission & Perm.WRITE) === 0) {
    throw new NoPermissionError(`the broker[${c.brokerName}] sending message is forbidden`);
  }
  const problem = topicNameProblem(header.topic);
  if (problem) throw new BrokerError(ResponseCode.SYSTEM_ERROR, problem);
  if (NOT_ALLOWED_SEND_TOPICS.has(header.topic)) {
    throw new NoPermissionError(`Sending message to topic[${header.topic}] is forbidden.`);
  }
}

/**
 * The send's topic: existing, or auto-created (retry topics with one queue, others from the
 * `defaultTopic` template); it must be writable.
 */
export function sendTopicConfig(header: SendHeader, s: BrokerServices): TopicConfig {
  const topicSysFlag = header.unitMode ? TopicSysFlag.UNIT_SUB : 0;
  let topicConfig = s.topics.get(header.topic);
  if (!topicConfig) {
    topicConfig = header.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)
      ? s.topics.ensure(header.topic, 1, Perm.READ | Perm.WRITE, topicSysFlag)
      : s.topics.createFromTemplate(header.topic, header.defaultTopic, header.defaultTopicQueueNums, topicSysFlag);
    if (!topicConfig) throw new TopicNotFoundError(header.topic);
  }
  if ((topicConfig.perm & Perm.WRITE) === 0) {
    throw new NoPermissionError(`the topic[${header.topic}] sending message is forbidden`);
  }
  return topicConfig;
}

/** A queue id must be below the topic's queue count (negative: the broker picks one). */
export function checkQueueId(header: SendHeader, topicConfig: TopicConfig, context: RequestContext): void {
  const queueMax = Math.max(topicConfig.writeQueueNums, topicConfig.readQueueNums);
  if (header.queueId >= queueMax) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `request queueId[${header.queueId}] is illegal, topic ${header.topic} has ${queueMax} queues, producer: ${context.connection.remoteAddr}`,
    );
  }
}

/** Handles SEND_MESSAGE, SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE. */
export async function handleSendMessage(
  request: RemotingCommand,
  context: RequestContext,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const header = readSendHeader(request);
  const c = s.config;
  checkSendAllowed(header, s);
  const body = request.body ?? new Uint8Array();
  const isBatch = request.code === RequestCode.SEND_BATCH_MESSAGE || header.batch === true;
  if (isBatch && header.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
    throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, "batch request does not support retry group " + header.topic);
  }
  if (!isBatch && body.length > c.maxMessageSize) {
    throw new MessageIllegalError(
      `Cannot append message to topic "${header.topic}": body is ${body.length} bytes, limit is ${c.maxMessageSize} bytes`,
    );
  }
  const topicConfig = sendTopicConfig(header, s);
  let queueId = header.queueId;
  checkQueueId(header, topicConfig, context);
  if (queueId < 0) queueId = Math.floor(Math.random() * Math.max(1, topicConfig.writeQueueNums));

  const properties = parseProperties(header.properties ?? "");
  const transactional = properties.get(MessageProperty.TRAN_MSG) === "true";
  if (transactional && c.rejectTransactionMessage) {
    throw new NoPermissionError(`the broker[${c.brokerName}] sending transaction message is forbidden`);
  }
  const sysFlag = topicConfig.topicFilterType === "MULTI_TAG"
    ? header.sysFlag | MessageSysFlag.MULTI_TAGS
    : header.sysFlag;
  const reconsumeTimes = header.reconsumeTimes ?? 0;
  let topic = header.topic;

  if (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
    // A client re-sending a failed message itself: after max retries it goes to the DLQ.
    const group = topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
    const groupConfig = s.groups.find(group);
    if (!groupConfig) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}`);
    }
    let maxReconsumeTimes = groupConfig.retryMaxTimes;
    if (request.version >= MAX_RECONSUME_TIMES_VERSION_MIN && header.maxReconsumeTimes !== undefined) {
      maxReconsumeTimes = header.maxReconsumeTimes;
    }
    if (reconsumeTimes >= maxReconsumeTimes) {
      topic = dlqTopicOf(group);
      s.topics.ensure(topic, DLQ_NUMS_PER_GROUP, Perm.READ | Perm.WRITE, 0);
      queueId = 0;
      properties.set(MessageProperty.DELAY, "0"); // a re-sent retry asks for a delay; dead letters get none
      s.stats.sendBackToDlq.add(1, s.now());
    }
  }

  properties.set(MessageProperty.CLUSTER, c.brokerClusterName);
  const bornHost = bornHostOf(context.connection);
  if (isBatch) return await sendBatch(request, s, header, topic, queueId, sysFlag, bornHost, properties, body);

  const inner: InnerMessage = {
    topic,
    queueId,
    flag: header.flag,
    sysFlag,
    bornTimestamp: header.bornTimestamp,
    bornHost,
    reconsumeTimes,
    preparedTransactionOffset: 0,
    body,
    properties,
  };
  // A transactional send stores a half message, invisible to consumers until END_TRANSACTION.
  if (transactional && !isBatch) prepareHalfMessage(inner);
  const result = await s.putInner(inner);
  const mapped = putStatusResponse(result.status, result.reason);
  if (result.status !== PutMessageStatus.PUT_OK && result.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
    s.stats.rejectedSends.add(1, s.now());
    return createResponse(request, mapped.code, { remark: mapped.remark });
  }
  return createResponse(request, mapped.code, {
    remark: mapped.remark,
    extFields: sendResponseFields(s, result.messageId, queueId, result.queueOffset),
  });
}

/** The send reply's extFields, in the order RocketMQ 4.9.7 writes them. */
export function sendResponseFields(s: BrokerServices, msgId: string, queueId: number, queueOffset: number) {
  return {
    queueId: String(queueId),
    TRACE_ON: String(s.config.traceOn),
    MSG_REGION: s.config.regionId,
    msgId,
    queueOffset: String(queueOffset),
  };
}

async function sendBatch(
  request: RemotingCommand,
  s: BrokerServices,
  header: SendHeader,
  topic: string,
  queueId: number,
  sysFlag: number,
  bornHost: { ip: Uint8Array; port: number },
  batchProperties: Map<string, string>,
  body: Uint8Array,
): Promise<RemotingCommand> {
  const c = s.config;
  let entries;
  try {
    entries = decodeBatchBody(body, BATCH_MESSAGES_MAX);
  } catch (error) {
    throw new MessageIllegalError((error as ProtocolError).message);
  }
  if (entries.length === 0) throw new MessageIllegalError("Cannot append batch: it holds no messages");
  if ((sysFlag & MessageSysFlag.TRANSACTION_MASK) !== 0) {
    throw new MessageIllegalError("Cannot append batch: transactional batches are not supported");
  }
  if (batchProperties.has(MessageProperty.DELAY)) {
    throw new MessageIllegalError("Cannot append batch: batches cannot have a delay level");
  }
  // Unlike a single message's, a batch's WAIT stays in the properties every message shares, as
  // in RocketMQ 4.9.7 (so each stored record has the sender's WAIT twice, and the same size).
  const waitRaw = batchProperties.get(MessageProperty.WAIT);
  const shared = encodeProperties(batchProperties);
  const storeEntries: StoreBatchEntry[] = entries.map((entry, index) => {
    if (entry.body.length > c.maxMessageSize) {
      throw new MessageIllegalError(
        `Cannot append message ${index} of batch to topic "${topic}": body is ${entry.body.length} bytes, limit is ${c.maxMessageSize} bytes`,
      );
    }
    const own = parseProperties(entry.properties);
    if (own.has(MessageProperty.DELAY) && own.get(MessageProperty.DELAY) !== "0") {
      throw new MessageIllegalError(`Cannot append message ${index} of batch: batches cannot have a delay level`);
    }
    const propertiesText = entry.properties.length === 0
      ? shared
      : entry.properties.endsWith("\u0002") || shared.length === 0
      ? entry.properties + shared
      : `${entry.properties}\u0002${shared}`;
    if (new TextEncoder().encode(propertiesText).length > propertiesBytesMax) {
      throw new MessageIllegalError(
        `Cannot append message ${index} of batch: properties exceed ${propertiesBytesMax} bytes`,
      );
    }
    return {
      flag: entry.flag,
      body: entry.body,
      properties: propertiesText,
      tagsCode: tagsHashCode(own.get(MessageProperty.TAGS)),
      keys: indexKeysOf(own),
    };
  });
  const result = await s.store.putMessages({
    topic,
    queueId,
    sysFlag,
    bornTimestamp: header.bornTimestamp,
    bornHost,
    storeHost: s.storeHost,
    reconsumeTimes: header.reconsumeTimes ?? 0,
    entries: storeEntries,
    waitForFlush: waitRaw !== "false",
  });
  const mapped = putStatusResponse(result.status, result.reason);
  if (result.status !== PutMessageStatus.PUT_OK && result.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
    s.stats.rejectedSends.add(entries.length, s.now());
    return createResponse(request, mapped.code, { remark: mapped.remark });
  }
  s.stats.recordPut(topic, entries.length, result.size, s.now());
  return createResponse(request, mapped.code, {
    remark: mapped.remark,
    extFields: sendResponseFields(s, result.messageIds.join(","), queueId, result.queueOffset),
  });
}
