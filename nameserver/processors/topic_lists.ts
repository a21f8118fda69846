/**
 * The topic-listing family, all answering a `TopicList` body:
 * GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206), GET_TOPICS_BY_CLUSTER (224),
 * GET_SYSTEM_TOPIC_LIST_FROM_NS (304), GET_UNIT_TOPIC_LIST (311),
 * GET_HAS_UNIT_SUB_TOPIC_LIST (312) and GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST (313).
 *
 * @module
 */

import { encodeJsonBody, topicListJson, TopicSysFlag } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { NameServerServices } from "./context.ts";

function topicList(request: RemotingCommand, topics: string[], brokerAddr?: string): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(topicListJson(topics, brokerAddr)) });
}

/** Handles GET_ALL_TOPIC_LIST_FROM_NAMESERVER. */
export function handleGetAllTopicList(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  return topicList(request, services.routes.allTopics());
}

/** Handles GET_TOPICS_BY_CLUSTER. */
export function handleGetTopicsByCluster(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const { cluster } = readHeader("GET_TOPICS_BY_CLUSTER header", { cluster: "string" }, request.extFields);
  return topicList(request, services.routes.topicsOfCluster(cluster));
}

/** Handles GET_SYSTEM_TOPIC_LIST_FROM_NS. */
export function handleGetSystemTopicList(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const { topics, brokerAddr } = services.routes.systemTopics();
  return topicList(request, topics, brokerAddr);
}

/** Handles GET_UNIT_TOPIC_LIST. */
export function handleGetUnitTopicList(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  return topicList(request, services.routes.topicsBySysFlag((flag) => (flag & TopicSysFlag.UNIT) !== 0));
}

/** Handles GET_HAS_UNIT_SUB_TOPIC_LIST. */
export function handleGetHasUnitSubTopicList(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  return topicList(request, services.routes.topicsBySysFlag((flag) => (flag & TopicSysFlag.UNIT_SUB) !== 0));
}

/** Handles GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST. */
export function handleGetHasUnitSubUnunitTopicList(
  request: RemotingCommand,
  services: NameServerServices,
): RemotingCommand {
  return topicList(
    request,
    services.routes.topicsBySysFlag((flag) => (flag & TopicSysFlag.UNIT) === 0 && (flag & TopicSysFlag.UNIT_SUB) !== 0),
  );
}
