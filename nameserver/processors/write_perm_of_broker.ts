/**
 * WIPE_WRITE_PERM_OF_BROKER (205) and ADD_WRITE_PERM_OF_BROKER (327): take a broker out of the
 * write path before maintenance, and put it back.
 *
 * @module
 */

import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { NameServerServices } from "./context.ts";

/** Handles WIPE_WRITE_PERM_OF_BROKER. */
export function handleWipeWritePermOfBroker(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const { brokerName } = readHeader("WIPE_WRITE_PERM_OF_BROKER header", { brokerName: "string" }, request.extFields);
  const count = services.routes.wipeWritePerm(brokerName);
  services.log.info("Wiped write permission of broker {brokerName} on {count} topics", { brokerName, count });
  return createResponse(request, ResponseCode.SUCCESS, { extFields: { wipeTopicCount: String(count) } });
}

/** Handles ADD_WRITE_PERM_OF_BROKER. */
export function handleAddWritePermOfBroker(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const { brokerName } = readHeader("ADD_WRITE_PERM_OF_BROKER header", { brokerName: "string" }, request.extFields);
  const count = services.routes.addWritePerm(brokerName);
  services.log.info("Added write permission of broker {brokerName} on {count} topics", { brokerName, count });
  return createResponse(request, ResponseCode.SUCCESS, { extFields: { addTopicCount: String(count) } });
}
