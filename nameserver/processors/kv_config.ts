/**
 * The KV-config family: PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG (102) and
 * GET_KVLIST_BY_NAMESPACE (219).
 *
 * @module
 */

import { encodeJsonBody, kvTableJson } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { ResponseError } from "../../protocol/errors.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { NameServerServices } from "./context.ts";

/** Handles PUT_KV_CONFIG. */
export function handlePutKvConfig(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const h = readHeader(
    "PUT_KV_CONFIG header",
    { namespace: "string", key: "string", value: "string" },
    request.extFields,
  );
  try {
    services.kv.put(h.namespace, h.key, h.value);
  } catch (error) {
    throw new ResponseError(ResponseCode.SYSTEM_ERROR, (error as Error).message);
  }
  return createResponse(request, ResponseCode.SUCCESS);
}

/** Handles GET_KV_CONFIG. */
export function handleGetKvConfig(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const h = readHeader("GET_KV_CONFIG header", { namespace: "string", key: "string" }, request.extFields);
  const value = services.kv.get(h.namespace, h.key);
  if (value === undefined) {
    return createResponse(request, ResponseCode.QUERY_NOT_FOUND, {
      remark: `No config item, Namespace: ${h.namespace} Key: ${h.key}`,
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, { extFields: { value } });
}

/** Handles DELETE_KV_CONFIG. */
export function handleDeleteKvConfig(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const h = readHeader("DELETE_KV_CONFIG header", { namespace: "string", key: "string" }, request.extFields);
  services.kv.delete(h.namespace, h.key);
  return createResponse(request, ResponseCode.SUCCESS);
}

/** Handles GET_KVLIST_BY_NAMESPACE. */
export function handleGetKvListByNamespace(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const h = readHeader("GET_KVLIST_BY_NAMESPACE header", { namespace: "string" }, request.extFields);
  const table = services.kv.list(h.namespace);
  if (!table) {
    return createResponse(request, ResponseCode.QUERY_NOT_FOUND, {
      remark: `No config item, Namespace: ${h.namespace}`,
    });
  }
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(kvTableJson(table)) });
}
