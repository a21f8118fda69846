/**
 * Who is connected: GET_CONSUMER_CONNECTION_LIST (203, `mqadmin consumerConnection`),
 * GET_PRODUCER_CONNECTION_LIST (204, `producerConnection`), GET_ALL_PRODUCER_INFO (328) and
 * QUERY_TOPIC_CONSUME_BY_WHO (300). Answers come from the heartbeat registries; unknown groups
 * get RocketMQ's codes and words.
 *
 * @module
 */

import { encodeJsonBody } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { type ClientChannel, subscriptionJson } from "../clients.ts";
import { BrokerError } from "../errors.ts";
import type { BrokerServices } from "./context.ts";

/** `Connection.java` (fields alphabetical); `clientAddr` is the peer's `ip:port`. */
function connectionJson(channel: ClientChannel): Record<string, unknown> {
  return {
    clientAddr: channel.connection.remoteAddr,
    clientId: channel.clientId,
    language: channel.language,
    version: channel.version,
  };
}

/** Handles GET_CONSUMER_CONNECTION_LIST: the group's clients and subscriptions; CONSUMER_NOT_ONLINE when none. */
export function handleGetConsumerConnectionList(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const { consumerGroup } = readHeader(
    "GET_CONSUMER_CONNECTION_LIST header",
    { consumerGroup: "string" },
    request.extFields,
  );
  const info = s.consumers.get(consumerGroup);
  if (!info) {
    throw new BrokerError(ResponseCode.CONSUMER_NOT_ONLINE, `the consumer group[${consumerGroup}] not online`);
  }
  const subscriptionTable: Record<string, unknown> = {};
  for (const [topic, sub] of info.subscriptions) subscriptionTable[topic] = subscriptionJson(sub);
  return createResponse(request, ResponseCode.SUCCESS, {
    body: encodeJsonBody({
      connectionSet: [...info.channels.values()].map(connectionJson),
      consumeFromWhere: info.consumeFromWhere,
      consumeType: info.consumeType,
      messageModel: info.messageModel,
      subscriptionTable,
    }),
  });
}

/** Handles GET_PRODUCER_CONNECTION_LIST: the group's clients; SYSTEM_ERROR when the group is unknown. */
export function handleGetProducerConnectionList(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const { producerGroup } = readHeader(
    "GET_PRODUCER_CONNECTION_LIST header",
    { producerGroup: "string" },
    request.extFields,
  );
  const channels = s.producers.channels(producerGroup);
  if (channels.length === 0) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, `the producer group[${producerGroup}] not exist`);
  }
  return createResponse(request, ResponseCode.SUCCESS, {
    body: encodeJsonBody({ connectionSet: channels.map(connectionJson) }),
  });
}

/** Handles GET_ALL_PRODUCER_INFO: every producer group's clients (`ProducerTableInfo`). */
export function handleGetAllProducerInfo(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const data: Record<string, unknown> = {};
  for (const [group, channels] of s.producers.all()) {
    data[group] = channels.map((c) => ({
      clientId: c.clientId,
      language: c.language,
      lastUpdateTimestamp: c.lastUpdateMs,
      // Java prints the channel's SocketAddress: "/127.0.0.1:59932".
      remoteIP: `/${c.connection.remoteHostname}:${c.connection.remotePort}`,
      version: c.version,
    }));
  }
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody({ data }) });
}

/** Handles QUERY_TOPIC_CONSUME_BY_WHO: groups subscribed to the topic now, or with offsets on it. */
export function handleQueryTopicConsumeByWho(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const { topic } = readHeader("QUERY_TOPIC_CONSUME_BY_WHO header", { topic: "string" }, request.extFields);
  const groups = new Set([...s.consumers.groupsOfTopic(topic), ...s.offsets.groupsOfTopic(topic)]);
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody({ groupList: groups }) });
}
