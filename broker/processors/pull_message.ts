/**
 * PULL_MESSAGE (11): read a batch from a consume queue, or hold the request until a message
 * arrives (long polling).
 *
 * Follows RocketMQ 4.9.x `PullMessageProcessor`: permission and group checks, the subscription
 * from the request (SUBSCRIPTION flag) or from the group's heartbeat, tag filtering on the
 * consume-queue tags code, the status → code table, the piggy-backed offset commit, and every
 * reply carrying `suggestWhichBrokerId`, `nextBeginOffset`, `minOffset` and `maxOffset`.
 *
 * @module
 */

import { Perm } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { type Header, readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { buildSubscription, type SubscriptionData, tagFilterOf } from "../clients.ts";
import { BrokerError, getStatusCode, NoPermissionError, TopicNotFoundError } from "../errors.ts";
import { GetMessageStatus } from "../store/store.ts";
import type { BrokerServices } from "./context.ts";

/** `PullSysFlag` bits. */
export const PullSysFlag = {
  COMMIT_OFFSET: 0x1,
  SUSPEND: 0x2,
  SUBSCRIPTION: 0x4,
  CLASS_FILTER: 0x8,
  LITE_PULL: 0x10,
} as const;

const PULL_SCHEMA = {
  consumerGroup: "string",
  topic: "string",
  queueId: "int",
  queueOffset: "long",
  maxMsgNums: "int",
  sysFlag: "int",
  commitOffset: "long",
  suspendTimeoutMillis: "long",
  subscription: "string?",
  subVersion: "long",
  expressionType: "string?",
} as const;

/** Handles PULL_MESSAGE. */
export async function handlePullMessage(request: RemotingCommand, s: BrokerServices): Promise<RemotingCommand | null> {
  const h = readHeader("PULL_MESSAGE header", PULL_SCHEMA, request.extFields);
  const c = s.config;
  const filter = checkedFilter(h, s);
  const suspend = (h.sysFlag & PullSysFlag.SUSPEND) !== 0;
  const holdMs = Math.min(
    c.longPollingEnable ? Math.max(0, h.suspendTimeoutMillis) : c.shortPollingTimeMills,
    c.longPollMsMax,
  );

  // The commit piggy-backed on a pull is taken once, on the first execution (not on a wake-up).
  if ((h.sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0 && c.brokerRole !== "SLAVE") {
    s.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
  }

  const response = await readOnce(request, h, s, filter);
  if (response.code !== ResponseCode.PULL_NOT_FOUND || !suspend || holdMs <= 0) return response;

  // Nothing new: hold until a matching message is dispatched or the hold time runs out.
  let wakeNow: (() => void) | undefined;
  const woken = new Promise<void>((resolve) => {
    wakeNow = s.pullHold.hold(h.topic, h.queueId, h.queueOffset, holdMs, filter, resolve);
  });
  if (!wakeNow) {
    return createResponse(request, ResponseCode.SYSTEM_BUSY, {
      remark: `[REJECTREQUEST]too many held pulls (${s.pullHold.count}), limit is ${c.pullHoldCountMax}`,
    });
  }
  // A message dispatched while the read above was finishing would not wake us: look once more.
  if (s.store.maxQueueOffset(h.topic, h.queueId) > h.queueOffset) wakeNow();
  await woken;
  // Re-executed as RocketMQ does: the checks and the group's subscription are looked up again,
  // so a consumer that changed its subscription while held is filtered by the new one.
  return await readOnce(request, h, s, checkedFilter(h, s));
}

type PullHeader = Header<typeof PULL_SCHEMA>;

/**
 * The permission, group, topic and queue checks of a pull, then its tag filter (undefined when
 * everything matches) from the request's or the group's subscription.
 */
function checkedFilter(h: PullHeader, s: BrokerServices): ((tagsCode: number) => boolean) | undefined {
  const c = s.config;
  if ((c.brokerPermission & Perm.READ) === 0) {
    throw new NoPermissionError(`the broker[${c.brokerName}] pulling message is forbidden`);
  }
  const group = s.groups.find(h.consumerGroup);
  if (!group) {
    throw new BrokerError(
      ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
      `subscription group [${h.consumerGroup}] does not exist, See http://rocketmq.apache.org/docs/faq/`,
    );
  }
  if (!group.consumeEnable) throw new NoPermissionError(`subscription group no permission, ${h.consumerGroup}`);
  const topic = s.topics.get(h.topic);
  if (!topic) throw new TopicNotFoundError(h.topic);
  if ((topic.perm & Perm.READ) === 0) throw new NoPermissionError(`the topic[${h.topic}] pulling message is forbidden`);
  if (h.queueId < 0 || h.queueId >= topic.readQueueNums) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `queueId[${h.queueId}] is illegal, topic:[${h.topic}] topicConfig.readQueueNums:[${topic.readQueueNums}] consumer:[${h.consumerGroup}]`,
    );
  }
  const subscription = subscriptionOf(h, s);
  if (subscription.expressionType !== "TAG" && !c.enablePropertyFilter) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `The broker does not support consumer to filter message by ${subscription.expressionType}`,
    );
  }
  return tagFilterOf(subscription);
}

function subscriptionOf(
  h: {
    consumerGroup: string;
    topic: string;
    sysFlag: number;
    subscription?: string;
    subVersion: number;
    expressionType?: string;
  },
  s: BrokerServices,
): SubscriptionData {
  if ((h.sysFlag & PullSysFlag.SUBSCRIPTION) !== 0) {
    return buildSubscription(h.topic, h.subscription, h.subVersion, h.expressionType ?? "TAG");
  }
  const info = s.consumers.get(h.consumerGroup);
  if (!info) {
    throw new BrokerError(
      ResponseCode.SUBSCRIPTION_NOT_EXIST,
      `the consumer's group info not exist, group ${h.consumerGroup}. See http://rocketmq.apache.org/docs/faq/`,
    );
  }
  const group = s.groups.get(h.consumerGroup);
  if (group && !group.consumeBroadcastEnable && info.messageModel === "BROADCASTING") {
    throw new NoPermissionError(`the consumer group[${h.consumerGroup}] can not consume by broadcast way`);
  }
  const sub = info.subscriptions.get(h.topic);
  if (!sub) {
    throw new BrokerError(
      ResponseCode.SUBSCRIPTION_NOT_EXIST,
      `the consumer's subscription not exist, group ${h.consumerGroup} topic ${h.topic}`,
    );
  }
  if (sub.subVersion < h.subVersion) {
    throw new BrokerError(
      ResponseCode.SUBSCRIPTION_NOT_LATEST,
      `the consumer's subscription not latest: broker has ${sub.subVersion}, pull asks ${h.subVersion}`,
    );
  }
  return sub;
}

async function readOnce(
  request: RemotingCommand,
  h: { consumerGroup: string; topic: string; queueId: number; queueOffset: number; maxMsgNums: number },
  s: BrokerServices,
  filter: ((tagsCode: number) => boolean) | undefined,
): Promise<RemotingCommand> {
  const c = s.config;
  const maxCount = Math.max(1, Math.min(h.maxMsgNums, c.maxTransferCountOnMessageInMemory));
  const result = await s.store.getMessages(h.topic, h.queueId, h.queueOffset, {
    maxCount,
    maxBytes: c.maxTransferBytesOnMessageInMemory,
    filter,
    unitsScannedMax: Math.max(800, maxCount * 20),
  });
  const code = getStatusCode(result.status, h.queueOffset);
  let nextBeginOffset = result.nextBeginOffset;
  if (
    result.status === GetMessageStatus.NO_MESSAGE_IN_QUEUE || result.status === GetMessageStatus.NO_MATCHED_LOGIC_QUEUE
  ) {
    nextBeginOffset = 0;
  } else if (result.status === GetMessageStatus.OFFSET_OVERFLOW_BADLY) {
    // 4.9.x corrects an offset past the end to the queue's max, whatever its min (older
    // versions sent a queue with min 0 back to 0, which replays a whole queue to a consumer
    // whose offset ran ahead, e.g. after the broker lost its tail).
    nextBeginOffset = result.maxOffset;
  }
  if (code === ResponseCode.SUCCESS) {
    s.stats.recordGet(h.topic, h.consumerGroup, result.messageCount, result.records.length, s.now());
  }
  return createResponse(request, code, {
    remark: result.status,
    extFields: {
      suggestWhichBrokerId: "0",
      nextBeginOffset: String(nextBeginOffset),
      maxOffset: String(result.maxOffset),
      minOffset: String(result.minOffset),
    },
    body: code === ResponseCode.SUCCESS ? result.records : undefined,
  });
}
