/**
 * GET_ROUTEINFO_BY_TOPIC (105): the route clients use to find a topic's brokers and queues.
 *
 * Key quoting follows RocketMQ 4.9.4+: standard JSON when the request version is ≥ 401 (V4_9_4)
 * or `acceptStandardJsonOnly=true`, fastjson's bare integer keys otherwise.
 *
 * @module
 */

import { encodeJsonBody, topicRouteDataJson } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { NAMESPACE_ORDER_TOPIC_CONFIG } from "../kv_config.ts";
import type { NameServerServices } from "./context.ts";

/** Request version from which routes are standard JSON (V4_9_4). */
const STANDARD_JSON_VERSION_MIN = 401;

const schema = { topic: "string", acceptStandardJsonOnly: "boolean?" } as const;

/** Handles GET_ROUTEINFO_BY_TOPIC. */
export function handleGetRouteInfoByTopic(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const header = readHeader("GET_ROUTEINFO_BY_TOPIC header", schema, request.extFields);
  const route = services.routes.routeOf(header.topic);
  if (!route) {
    return createResponse(request, ResponseCode.TOPIC_NOT_EXIST, {
      remark: `No topic route info in name server for the topic: ${header.topic}\n` +
        "See http://rocketmq.apache.org/docs/faq/ for further details.",
    });
  }
  if (services.config.orderMessageEnable) {
    route.orderTopicConf = services.kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, header.topic);
  }
  const quoteKeys = request.version >= STANDARD_JSON_VERSION_MIN || header.acceptStandardJsonOnly === true;
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(topicRouteDataJson(route, quoteKeys)) });
}
