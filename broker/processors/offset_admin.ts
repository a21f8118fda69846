/**
 * Offset administration: GET_ALL_CONSUMER_OFFSET (43) and GET_ALL_DELAY_OFFSET (45) (what
 * slaves replicate), INVOKE_BROKER_TO_RESET_OFFSET (222, `mqadmin resetOffsetByTime`),
 * CLONE_GROUP_OFFSET (314) and QUERY_CORRECTION_OFFSET (308).
 *
 * A reset computes each write queue's offset for the timestamp, tells every online client of
 * the group with RESET_CONSUMER_CLIENT_OFFSET (220, oneway) and — unlike RocketMQ 4.9.7, which
 * leaves that to the clients' next commit — commits the offsets on the broker too, so consumer
 * progress shows the reset at once and a client that dies before committing cannot undo it.
 *
 * @module
 */

import { encodeJsonBody } from "../../protocol/bodies.ts";
import { createRequest, createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader, toExtFields } from "../../protocol/header.ts";
import { RequestCode } from "../../protocol/request_code.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { BrokerError } from "../errors.ts";
import { type MessageQueueKey, messageQueueKey, mqVersionDesc, V3_0_7_SNAPSHOT } from "./_admin_util.ts";
import type { BrokerServices } from "./context.ts";

const encoder = new TextEncoder();

/** `Long.MAX_VALUE`: QUERY_CORRECTION_OFFSET's "no correction needed" for a queue. */
const LONG_MAX = 9223372036854775807n;

/** Handles GET_ALL_CONSUMER_OFFSET: consumerOffset.json's content (bare integer queue keys). */
export function handleGetAllConsumerOffset(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, { body: encoder.encode(s.offsets.encode()) });
}

/** Handles GET_ALL_DELAY_OFFSET: delayOffset.json's content (bare integer level keys). */
export function handleGetAllDelayOffset(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, { body: encoder.encode(s.schedule.encode()) });
}

const RESET_SCHEMA = { topic: "string", group: "string", timestamp: "long", isForce: "boolean" } as const;

/** Each write queue's reset target: by timestamp (-1: the end), kept at the committed offset unless forced or earlier. */
async function resetTargets(
  s: BrokerServices,
  h: { topic: string; group: string; timestamp: number; isForce: boolean },
  queueCount: number,
): Promise<Map<MessageQueueKey, number>> {
  const table = new Map<MessageQueueKey, number>();
  for (let queueId = 0; queueId < queueCount; queueId++) {
    const consumerOffset = s.offsets.query(h.group, h.topic, queueId);
    if (consumerOffset === -1) {
      throw new BrokerError(ResponseCode.SYSTEM_ERROR, `THe consumer group <${h.group}> not exist`);
    }
    let target = h.timestamp === -1
      ? s.store.maxQueueOffset(h.topic, queueId)
      : await s.store.searchQueueOffsetByTimestamp(h.topic, queueId, h.timestamp);
    if (target < 0) target = 0;
    const offset = h.isForce || target < consumerOffset ? target : consumerOffset;
    table.set(messageQueueKey(h.topic, s.config.brokerName, queueId), offset);
  }
  return table;
}

/** The RESET_CONSUMER_CLIENT_OFFSET body: ResetOffsetBody, or the list form C++ clients read. */
function resetBody(table: Map<MessageQueueKey, number>, forCpp: boolean): Uint8Array {
  if (!forCpp) return encodeJsonBody({ offsetTable: table });
  const offsetTable = [...table].map(([mq, offset]) => ({
    brokerName: mq.brokerName,
    offset,
    queueId: mq.queueId,
    topic: mq.topic,
  }));
  return encodeJsonBody({ offsetTable });
}

/** Handles INVOKE_BROKER_TO_RESET_OFFSET. */
export async function handleInvokeBrokerToResetOffset(
  request: RemotingCommand,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const h = readHeader("INVOKE_BROKER_TO_RESET_OFFSET header", RESET_SCHEMA, request.extFields);
  const config = s.topics.get(h.topic);
  if (!config) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `[reset-offset] reset offset failed, no topic in this broker. topic=${h.topic}`,
    );
  }
  const table = await resetTargets(s, h, config.writeQueueNums);
  const channels = [...(s.consumers.get(h.group)?.channels.values() ?? [])];
  if (channels.length === 0) {
    throw new BrokerError(
      ResponseCode.CONSUMER_NOT_ONLINE,
      `Consumer not online, so can not reset offset, Group: ${h.group} Topic: ${h.topic} Timestamp: ${h.timestamp}`,
    );
  }
  const tooOld = channels.find((c) => c.version < V3_0_7_SNAPSHOT);
  if (tooOld) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `the client does not support this feature. version=${mqVersionDesc(tooOld.version)}`,
    );
  }
  const notice = createRequest(
    RequestCode.RESET_CONSUMER_CLIENT_OFFSET,
    toExtFields({ topic: h.topic, group: h.group, timestamp: h.timestamp, isForce: false }),
    { body: resetBody(table, request.language === "CPP") },
  );
  for (const channel of channels) {
    if (!channel.connection.oneway(notice)) {
      s.log.warn("Cannot send offset reset of {group} on {topic} to {clientId}: connection closed", {
        group: h.group,
        topic: h.topic,
        clientId: channel.clientId,
      });
    }
  }
  for (const [mq, offset] of table) s.offsets.commit(h.group, h.topic, mq.queueId, offset);
  s.log.info("Reset offsets of {group} on {topic} to {timestamp} (force {isForce}) for {clients} clients", {
    group: h.group,
    topic: h.topic,
    timestamp: h.timestamp,
    isForce: h.isForce,
    clients: channels.length,
  });
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody({ offsetTable: table }) });
}

/**
 * Handles CLONE_GROUP_OFFSET: copies the source group's offsets on `topic` (or on every topic
 * it has offsets on) to the destination group. Unless `offline`, an online source group's
 * unsubscribed topics are skipped. (RocketMQ 4.9.7 copies only the named topic, even when none
 * is named; every topic is copied here.)
 */
export function handleCloneGroupOffset(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const h = readHeader(
    "CLONE_GROUP_OFFSET header",
    { srcGroup: "string", destGroup: "string", topic: "string?", offline: "boolean?" },
    request.extFields,
  );
  const topics = h.topic && h.topic.trim() !== "" ? [h.topic] : s.offsets.topicsOfGroup(h.srcGroup);
  const online = s.consumers.get(h.srcGroup);
  for (const topic of topics) {
    if (!s.topics.get(topic)) continue;
    if (!h.offline && online && online.subscriptions.size > 0 && !online.subscriptions.has(topic)) continue;
    s.offsets.clone(h.srcGroup, h.destGroup, topic);
  }
  return createResponse(request, ResponseCode.SUCCESS);
}

/**
 * Handles QUERY_CORRECTION_OFFSET: per queue of `topic`, the lowest offset any group (less
 * `filterGroups`, comma-separated) has committed at or above the queue's minimum; where that is
 * above `compareGroup`'s own offset the answer is `Long.MAX_VALUE`. RocketMQ 4.9.7 deletes the
 * filter groups' offsets while computing this; here they are only left out.
 */
export function handleQueryCorrectionOffset(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const h = readHeader(
    "QUERY_CORRECTION_OFFSET header",
    { filterGroups: "string?", compareGroup: "string", topic: "string" },
    request.extFields,
  );
  const excluded = new Set((h.filterGroups ?? "").split(",").map((g) => g.trim()).filter(Boolean));
  const correction = new Map<number, number | bigint>();
  for (const group of s.offsets.groupsOfTopic(h.topic)) {
    if (excluded.has(group)) continue;
    for (const [queueId, offset] of s.offsets.queueOffsets(group, h.topic)) {
      if (offset < s.store.minQueueOffset(h.topic, queueId)) continue;
      const current = correction.get(queueId);
      if (current === undefined || offset < Number(current)) correction.set(queueId, offset);
    }
  }
  for (const [queueId, offset] of s.offsets.queueOffsets(h.compareGroup, h.topic)) {
    const current = correction.get(queueId);
    if (current !== undefined && Number(current) > offset) correction.set(queueId, LONG_MAX);
  }
  const sorted = new Map([...correction].sort((a, b) => a[0] - b[0]));
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody({ correctionOffsets: sorted }) });
}
