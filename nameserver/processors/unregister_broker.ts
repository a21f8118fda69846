/**
 * UNREGISTER_BROKER (104): a broker leaving cleanly.
 *
 * @module
 */

import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { NameServerServices } from "./context.ts";

const schema = { brokerName: "string", brokerAddr: "string", clusterName: "string", brokerId: "long" } as const;

/** Handles UNREGISTER_BROKER. */
export function handleUnregisterBroker(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const header = readHeader("UNREGISTER_BROKER header", schema, request.extFields);
  services.routes.unregister(header);
  services.log.info("Unregistered broker {brokerName} {brokerAddr} (id {brokerId})", { ...header });
  return createResponse(request, ResponseCode.SUCCESS);
}
