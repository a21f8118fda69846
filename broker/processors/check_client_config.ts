/**
 * CHECK_CLIENT_CONFIG (46): Java consumers ask at start whether a non-TAG (SQL92) subscription
 * is supported.
 *
 * @module
 */

import { decodeJsonBody } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { BrokerServices } from "./context.ts";

/** Handles CHECK_CLIENT_CONFIG. */
export function handleCheckClientConfig(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const body = decodeJsonBody(request.body, "CHECK_CLIENT_CONFIG body") as Record<string, unknown>;
  const sub = (body?.subscriptionData ?? {}) as Record<string, unknown>;
  const type = typeof sub.expressionType === "string" && sub.expressionType ? sub.expressionType : "TAG";
  if (type !== "TAG" && !s.config.enablePropertyFilter) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, {
      remark: `The broker does not support consumer to filter message by ${type}`,
    });
  }
  if (type !== "TAG") {
    return createResponse(request, ResponseCode.SUBSCRIPTION_PARSE_FAILED, {
      remark: `Parse ${type} expression failed: this broker filters by tags only`,
    });
  }
  return createResponse(request, ResponseCode.SUCCESS);
}
