/**
 * UPDATE_NAMESRV_CONFIG (318) and GET_NAMESRV_CONFIG (319): the live NameServer config as Java
 * properties text. Black-listed keys (`configBlackList`) cannot be changed remotely.
 *
 * @module
 */

import { formatJavaProperties, parseJavaProperties } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { ResponseError } from "../../protocol/errors.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { applyNameServerSettings, ConfigError, nameServerConfigEntries } from "../config.ts";
import type { NameServerServices } from "./context.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Keys that only take effect at start: changing them remotely would only mislead. */
const START_ONLY_KEYS = new Set(["listenPort", "listenHost"]);

/** Handles UPDATE_NAMESRV_CONFIG. */
export function handleUpdateNamesrvConfig(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  const settings = parseJavaProperties(decoder.decode(request.body ?? new Uint8Array()));
  const blackList = new Set(services.config.configBlackList.split(/[;,]/).map((k) => k.trim()).filter(Boolean));
  for (const key of settings.keys()) {
    if (blackList.has(key) || START_ONLY_KEYS.has(key)) {
      return createResponse(request, ResponseCode.NO_PERMISSION, {
        remark: `Cannot update config in black list: "${key}"`,
      });
    }
  }
  const draft = { ...services.config };
  try {
    const unknown = applyNameServerSettings(draft, settings);
    if (unknown.length > 0) {
      throw new ConfigError(`Unknown config keys: ${unknown.map((k) => `"${k}"`).join(", ")}`);
    }
  } catch (error) {
    throw new ResponseError(ResponseCode.SYSTEM_ERROR, (error as Error).message);
  }
  Object.assign(services.config, draft);
  services.log.info("Updated config: {keys}", { keys: [...settings.keys()] });
  return createResponse(request, ResponseCode.SUCCESS);
}

/** Handles GET_NAMESRV_CONFIG. */
export function handleGetNamesrvConfig(request: RemotingCommand, services: NameServerServices): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, {
    body: encoder.encode(formatJavaProperties(nameServerConfigEntries(services.config))),
  });
}
