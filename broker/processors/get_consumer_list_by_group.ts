/**
 * GET_CONSUMER_LIST_BY_GROUP (38): the client ids of a group, which every member sorts and
 * divides the queues by.
 *
 * @module
 */

import { encodeJsonBody } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { BrokerServices } from "./context.ts";

/** Handles GET_CONSUMER_LIST_BY_GROUP. */
export function handleGetConsumerListByGroup(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const { consumerGroup } = readHeader(
    "GET_CONSUMER_LIST_BY_GROUP header",
    { consumerGroup: "string" },
    request.extFields,
  );
  const ids = s.consumers.clientIds(consumerGroup);
  if (ids.length === 0) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, {
      remark: `no consumer for this group, ${consumerGroup}`,
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody({ consumerIdList: ids }) });
}
