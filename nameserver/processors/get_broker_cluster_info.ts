/**
 * GET_BROKER_CLUSTER_INFO (106): every broker by name and every cluster's broker names.
 *
 * @module
 */

import { clusterInfoJson, encodeJsonBody } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { NameServerServices } from "./context.ts";

/** Handles GET_BROKER_CLUSTER_INFO. */
export function handleGetBrokerClusterInfo(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, {
    body: encodeJsonBody(clusterInfoJson(services.routes.clusterInfo())),
  });
}
