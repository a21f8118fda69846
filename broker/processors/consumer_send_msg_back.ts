/**
 * CONSUMER_SEND_MSG_BACK (36): a consumer failed a message; store a copy in `%RETRY%<group>` with
 * a delay (level 3 + reconsume times unless the client chose one), or in `%DLQ%<group>` once it
 * has been retried `maxReconsumeTimes` times.
 *
 * The copy keeps the original body, flag, sysFlag, born host and time, and all properties, with
 * RETRY_TOPIC (the original topic) and ORIGIN_MESSAGE_ID added if absent; its reconsume times is
 * the original's plus one.
 *
 * @module
 */

import { Perm, TopicSysFlag } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import {
  createOffsetMessageId,
  decodeMessageRecord,
  MessageProperty,
  parseProperties,
} from "../../protocol/message.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { BrokerError, NoPermissionError } from "../errors.ts";
import { PutMessageStatus } from "../store/store.ts";
import { DLQ_NUMS_PER_GROUP, dlqTopicOf, retryTopicOf } from "../topics.ts";
import type { BrokerServices } from "./context.ts";

const schema = {
  offset: "long",
  group: "string",
  delayLevel: "int",
  originMsgId: "string?",
  originTopic: "string?",
  unitMode: "boolean?",
  maxReconsumeTimes: "int?",
} as const;

/** Request version from which the header's `maxReconsumeTimes` is honoured (V3_4_9). */
const MAX_RECONSUME_TIMES_VERSION_MIN = 121;

/** Handles CONSUMER_SEND_MSG_BACK. */
export async function handleConsumerSendMsgBack(request: RemotingCommand, s: BrokerServices): Promise<RemotingCommand> {
  const h = readHeader("CONSUMER_SEND_MSG_BACK header", schema, request.extFields);
  const groupConfig = s.groups.find(h.group);
  if (!groupConfig) {
    throw new BrokerError(
      ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
      `subscription group not exist, ${h.group} See http://rocketmq.apache.org/docs/faq/`,
    );
  }
  if ((s.config.brokerPermission & Perm.WRITE) === 0) {
    throw new NoPermissionError(`the broker[${s.config.brokerName}] sending message is forbidden`);
  }
  if (groupConfig.retryQueueNums <= 0) return createResponse(request, ResponseCode.SUCCESS);

  const topicSysFlag = h.unitMode ? TopicSysFlag.UNIT_SUB : 0;
  let topic = retryTopicOf(h.group);
  let queueId = Math.floor(Math.random() * groupConfig.retryQueueNums);
  const retryConfig = s.topics.ensure(topic, groupConfig.retryQueueNums, Perm.READ | Perm.WRITE, topicSysFlag);
  if ((retryConfig.perm & Perm.WRITE) === 0) {
    throw new NoPermissionError(`the topic[${topic}] sending message is forbidden`);
  }
  const record = await s.store.readRecord(h.offset);
  if (!record) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `look message by offset failed, ${h.offset}`);
  const original = decodeMessageRecord(record, 0, { copyBody: true });
  const properties = parseProperties(original.properties);
  if (!properties.has(MessageProperty.RETRY_TOPIC)) properties.set(MessageProperty.RETRY_TOPIC, original.topic);

  let maxReconsumeTimes = groupConfig.retryMaxTimes;
  if (request.version >= MAX_RECONSUME_TIMES_VERSION_MIN && h.maxReconsumeTimes !== undefined) {
    maxReconsumeTimes = h.maxReconsumeTimes;
  }
  let delayLevel = h.delayLevel;
  const toDlq = original.reconsumeTimes >= maxReconsumeTimes || delayLevel < 0;
  if (toDlq) {
    topic = dlqTopicOf(h.group);
    queueId = Math.floor(Math.random() * DLQ_NUMS_PER_GROUP);
    s.topics.ensure(topic, DLQ_NUMS_PER_GROUP, Perm.READ | Perm.WRITE, 0);
    properties.set(MessageProperty.DELAY, "0"); // as RocketMQ: level 0, stored, never applied
  } else {
    if (delayLevel === 0) delayLevel = 3 + original.reconsumeTimes;
    properties.set(MessageProperty.DELAY, String(delayLevel));
  }
  if (!properties.has(MessageProperty.ORIGIN_MESSAGE_ID)) {
    properties.set(
      MessageProperty.ORIGIN_MESSAGE_ID,
      createOffsetMessageId(original.storeHost, original.commitLogOffset),
    );
  }
  // Stored too: RocketMQ writes WAIT=false into the copy, so consumers of retries see it.
  properties.set(MessageProperty.WAIT, "false");

  const result = await s.putInner({
    topic,
    queueId,
    flag: original.flag,
    sysFlag: original.sysFlag,
    bornTimestamp: original.bornTimestamp,
    bornHost: original.bornHost,
    reconsumeTimes: original.reconsumeTimes + 1,
    preparedTransactionOffset: original.preparedTransactionOffset,
    body: original.body,
    properties,
    waitForFlush: false,
  });
  if (result.status !== PutMessageStatus.PUT_OK && result.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: `${result.status}: ${result.reason}` });
  }
  (toDlq ? s.stats.sendBackToDlq : s.stats.sendBackToRetry).add(1, s.now());
  return createResponse(request, ResponseCode.SUCCESS);
}
