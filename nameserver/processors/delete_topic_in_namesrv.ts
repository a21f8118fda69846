/**
 * DELETE_TOPIC_IN_NAMESRV (216): forget a topic's routes (after the admin deleted it on the
 * brokers), only those of one cluster when `clusterName` is given.
 *
 * @module
 */

import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { NameServerServices } from "./context.ts";

/** Handles DELETE_TOPIC_IN_NAMESRV. */
export function handleDeleteTopicInNamesrv(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const h = readHeader(
    "DELETE_TOPIC_IN_NAMESRV header",
    { topic: "string", clusterName: "string?" },
    request.extFields,
  );
  services.routes.deleteTopic(h.topic, h.clusterName);
  services.log.info("Deleted topic {topic} from routes", { topic: h.topic, clusterName: h.clusterName });
  return createResponse(request, ResponseCode.SUCCESS);
}
