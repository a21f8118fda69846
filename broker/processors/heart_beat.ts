/**
 * HEART_BEAT (34): a client announces its producer and consumer groups and its subscriptions.
 * Consumer groups are auto-created, their `%RETRY%<group>` topic is created at the group's first
 * heartbeat and registered with the NameServers before anyone is told (so a rebalancing Java
 * consumer finds its route), and a change in membership or topics notifies the group.
 *
 * @module
 */

import { Perm, TopicSysFlag } from "../../protocol/bodies.ts";
import { decodeJsonBody } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { RequestContext } from "../../remoting/server.ts";
import { buildSubscription, type ClientChannel, type SubscriptionData } from "../clients.ts";
import { retryTopicOf } from "../topics.ts";
import type { BrokerServices } from "./context.ts";

/**
 * Longest a heartbeat that created a retry topic waits for the NameServers to take the new route
 * before the group is notified and the heartbeat answered; past it both go out and the route follows.
 */
const REGISTRATION_WAIT_MS_MAX = 2000;
/** Groups one heartbeat may name: a bound on the work of one request. */
const GROUPS_PER_HEARTBEAT_MAX = 1000;
/** Subscriptions one consumer group may list in one heartbeat. */
const SUBSCRIPTIONS_PER_GROUP_MAX = 10_000;

interface RawSubscription {
  topic?: unknown;
  subString?: unknown;
  subVersion?: unknown;
  expressionType?: unknown;
  classFilterMode?: unknown;
}

function readSubscription(raw: RawSubscription): SubscriptionData {
  if (typeof raw.topic !== "string" || raw.topic === "") {
    throw new ProtocolError("Cannot read heartbeat: a subscription has no topic");
  }
  const expressionType = typeof raw.expressionType === "string" && raw.expressionType ? raw.expressionType : "TAG";
  const sub = buildSubscription(
    raw.topic,
    typeof raw.subString === "string" ? raw.subString : "*",
    Number(raw.subVersion ?? 0) || 0,
    expressionType,
  );
  sub.classFilterMode = raw.classFilterMode === true;
  return sub;
}

/** Handles HEART_BEAT. */
export async function handleHeartBeat(
  request: RemotingCommand,
  context: RequestContext,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const data = decodeJsonBody(request.body, "heartbeat") as Record<string, unknown>;
  if (typeof data !== "object" || data === null || typeof data.clientID !== "string") {
    throw new ProtocolError("Cannot read heartbeat: clientID is missing");
  }
  const consumers = Array.isArray(data.consumerDataSet) ? data.consumerDataSet : [];
  const producers = Array.isArray(data.producerDataSet) ? data.producerDataSet : [];
  if (consumers.length + producers.length > GROUPS_PER_HEARTBEAT_MAX) {
    throw new ProtocolError(
      `Cannot read heartbeat: ${consumers.length + producers.length} groups, limit is ${GROUPS_PER_HEARTBEAT_MAX}`,
    );
  }
  const channel: ClientChannel = {
    connection: context.connection,
    clientId: data.clientID,
    language: request.language,
    version: request.version,
    lastUpdateMs: s.now(),
  };
  context.connection.attributes.set("clientId", data.clientID);
  // Read every group first, so a bad entry changes nothing.
  const registrations = [];
  for (const raw of consumers as Record<string, unknown>[]) {
    const group = String(raw?.groupName ?? "");
    if (!group) continue;
    const rawSubs = Array.isArray(raw.subscriptionDataSet) ? raw.subscriptionDataSet as RawSubscription[] : [];
    if (rawSubs.length > SUBSCRIPTIONS_PER_GROUP_MAX) {
      throw new ProtocolError(
        `Cannot read heartbeat: group ${group} lists ${rawSubs.length} subscriptions, limit is ${SUBSCRIPTIONS_PER_GROUP_MAX}`,
      );
    }
    registrations.push({
      group,
      unitMode: raw.unitMode === true,
      consumeType: String(raw.consumeType ?? "CONSUME_PASSIVELY"),
      messageModel: String(raw.messageModel ?? "CLUSTERING"),
      consumeFromWhere: String(raw.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET"),
      subscriptions: rawSubs.map(readSubscription),
    });
  }
  let createdTopic = false;
  for (const r of registrations) {
    const groupConfig = s.groups.find(r.group);
    if (!groupConfig) continue;
    createdTopic ||= s.topics.get(retryTopicOf(r.group)) === undefined;
    s.topics.ensure(
      retryTopicOf(r.group),
      groupConfig.retryQueueNums,
      Perm.READ | Perm.WRITE,
      r.unitMode ? TopicSysFlag.UNIT_SUB : 0,
    );
  }
  // A Java consumer rebalances as soon as NOTIFY_CONSUMER_IDS_CHANGED or this reply arrives, and
  // asks the NameServer for the retry topic's route: register it first (RocketMQ does too).
  if (createdTopic) await registeredOrTimeout(s);
  for (const r of registrations) {
    s.consumers.register({
      group: r.group,
      channel,
      consumeType: r.consumeType,
      messageModel: r.messageModel,
      consumeFromWhere: r.consumeFromWhere,
      subscriptions: r.subscriptions,
    }, s.config.notifyConsumerIdsChangedEnable && (s.groups.get(r.group)?.notifyConsumerIdsChangedEnable ?? true));
  }
  for (const raw of producers as Record<string, unknown>[]) {
    const group = String(raw?.groupName ?? "");
    if (group) s.producers.register(group, channel);
  }
  return createResponse(request, ResponseCode.SUCCESS);
}

async function registeredOrTimeout(s: BrokerServices): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, REGISTRATION_WAIT_MS_MAX));
  try {
    await Promise.race([s.registerSoon(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
