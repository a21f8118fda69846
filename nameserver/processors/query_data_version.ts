/**
 * QUERY_DATA_VERSION (322): a broker asks whether its topic config changed since its last
 * registration; an unchanged answer also counts as a heartbeat.
 *
 * @module
 */

import { decodeJsonBody, encodeJsonBody, readDataVersion } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { NameServerServices } from "./context.ts";

const schema = { brokerName: "string", brokerAddr: "string", clusterName: "string", brokerId: "long" } as const;

/** Handles QUERY_DATA_VERSION. */
export function handleQueryDataVersion(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const header = readHeader("QUERY_DATA_VERSION header", schema, request.extFields);
  const dataVersion = readDataVersion(decodeJsonBody(request.body, "data version"));
  const changed = services.routes.isDataVersionChanged(header.brokerAddr, dataVersion);
  if (!changed) services.routes.touch(header.brokerAddr);
  const known = services.routes.dataVersionOf(header.brokerAddr);
  return createResponse(request, ResponseCode.SUCCESS, {
    extFields: { changed: String(changed) },
    body: known ? encodeJsonBody({ counter: known.counter, timestamp: known.timestamp }) : undefined,
  });
}
