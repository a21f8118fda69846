/**
 * UNREGISTER_CLIENT (35): a client leaving a producer and/or consumer group.
 *
 * @module
 */

import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { RequestContext } from "../../remoting/server.ts";
import type { BrokerServices } from "./context.ts";

const schema = { clientID: "string", producerGroup: "string?", consumerGroup: "string?" } as const;

/** Handles UNREGISTER_CLIENT. */
export function handleUnregisterClient(
  request: RemotingCommand,
  context: RequestContext,
  s: BrokerServices,
): RemotingCommand {
  const h = readHeader("UNREGISTER_CLIENT header", schema, request.extFields);
  if (h.producerGroup) s.producers.unregister(h.producerGroup, context.connection.id);
  if (h.consumerGroup) {
    const notify = s.config.notifyConsumerIdsChangedEnable &&
      (s.groups.get(h.consumerGroup)?.notifyConsumerIdsChangedEnable ?? true);
    s.consumers.unregister(h.consumerGroup, context.connection.id, notify);
  }
  return createResponse(request, ResponseCode.SUCCESS);
}
