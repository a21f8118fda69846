/**
 * Topic administration: UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER (215) and
 * GET_ALL_TOPIC_CONFIG (21). Changes re-register the broker with its NameServers at once, so
 * clients see the new route on their next lookup.
 *
 * @module
 */

import { Perm, type TopicFilterType } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { BrokerError } from "../errors.ts";
import { isSystemTopic, newTopicConfig, topicNameProblem } from "../topics.ts";
import type { BrokerServices } from "./context.ts";

const encoder = new TextEncoder();

/** Queues one topic may have on one broker: RocketMQ tools cap at 1024 too. */
const QUEUES_PER_TOPIC_MAX = 1024;

const CREATE_SCHEMA = {
  topic: "string",
  defaultTopic: "string?",
  readQueueNums: "int",
  writeQueueNums: "int",
  perm: "int",
  topicFilterType: "string?",
  topicSysFlag: "int?",
  order: "boolean?",
} as const;

function checkTopicName(topic: string, s: BrokerServices): void {
  const problem = topicNameProblem(topic);
  if (problem) throw new BrokerError(ResponseCode.SYSTEM_ERROR, problem);
  if (isSystemTopic(topic, s.config)) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, `The topic[${topic}] is conflict with system topic.`);
  }
}

/** Handles UPDATE_AND_CREATE_TOPIC. */
export function handleUpdateAndCreateTopic(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const h = readHeader("UPDATE_AND_CREATE_TOPIC header", CREATE_SCHEMA, request.extFields);
  if (s.config.brokerRole === "SLAVE") {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      "Can't modify topic or subscription group from slave broker, please execute it from master broker.",
    );
  }
  checkTopicName(h.topic, s);
  for (const [name, value] of [["readQueueNums", h.readQueueNums], ["writeQueueNums", h.writeQueueNums]] as const) {
    if (value < 0 || value > QUEUES_PER_TOPIC_MAX) {
      throw new BrokerError(
        ResponseCode.SYSTEM_ERROR,
        `Cannot create topic "${h.topic}": ${name} is ${value}, expected 0-${QUEUES_PER_TOPIC_MAX}`,
      );
    }
  }
  if (h.perm < 0 || h.perm > (Perm.PRIORITY | Perm.READ | Perm.WRITE | Perm.INHERIT)) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `Cannot create topic "${h.topic}": perm ${h.perm} is not PermName bits`,
    );
  }
  const filter: TopicFilterType = h.topicFilterType === "MULTI_TAG" ? "MULTI_TAG" : "SINGLE_TAG";
  try {
    s.topics.upsert(newTopicConfig(h.topic, {
      readQueueNums: h.readQueueNums,
      writeQueueNums: h.writeQueueNums,
      perm: h.perm,
      topicFilterType: filter,
      topicSysFlag: h.topicSysFlag ?? 0,
      order: h.order ?? false,
    }));
  } catch (error) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, (error as Error).message);
  }
  s.registerSoon();
  return createResponse(request, ResponseCode.SUCCESS);
}

/** Handles DELETE_TOPIC_IN_BROKER: the topic, its consume queues and its consumer offsets go. */
export async function handleDeleteTopicInBroker(request: RemotingCommand, s: BrokerServices): Promise<RemotingCommand> {
  const { topic } = readHeader("DELETE_TOPIC_IN_BROKER header", { topic: "string" }, request.extFields);
  if (s.config.brokerRole === "SLAVE") {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      "Can't modify topic or subscription group from slave broker, please execute it from master broker.",
    );
  }
  checkTopicName(topic, s);
  s.topics.delete(topic);
  s.offsets.removeTopic(topic);
  await s.store.deleteTopic(topic);
  s.registerSoon();
  return createResponse(request, ResponseCode.SUCCESS);
}

/** Handles GET_ALL_TOPIC_CONFIG: the TopicConfigSerializeWrapper of topics.json. */
export function handleGetAllTopicConfig(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, { body: encoder.encode(s.topics.encode()) });
}
