/**
 * Broker configuration at run time: GET_BROKER_CONFIG (26, `mqadmin getBrokerConfig`) and
 * UPDATE_BROKER_CONFIG (25, `updateBrokerConfig`).
 *
 * An update is all or nothing: keys that need a restart (`RESTART_ONLY_KEYS`), unknown keys and
 * bad values refuse the whole request with a remark naming them, and nothing changes. Accepted
 * values take effect at once (handlers read the shared config on every request) but are not
 * written back to broker.conf, so a restart returns to the file. RocketMQ keys denomq accepts
 * without acting on (`IGNORED_KEYS`) are accepted here too, and logged.
 *
 * @module
 */

import { formatJavaProperties, parseJavaProperties } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { stringifyFastJson } from "../../protocol/fastjson.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import {
  applyBrokerSettings,
  type BrokerConfig,
  brokerConfigEntries,
  IGNORED_KEYS,
  RESTART_ONLY_KEYS,
  validateBrokerConfig,
} from "../config.ts";
import { BrokerError } from "../errors.ts";
import type { BrokerServices } from "./context.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const IGNORED_LOWER_CASE = new Set([...IGNORED_KEYS].map((k) => k.toLowerCase()));

/** Keys one update may carry: a bound on the work of one request (the config has ~60 keys). */
const UPDATE_KEYS_MAX = 1000;

/** Handles GET_BROKER_CONFIG: every key as properties text; the header's `version` is the config's data version. */
export function handleGetBrokerConfig(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, {
    extFields: { version: stringifyFastJson(s.configDataVersion) },
    body: encoder.encode(formatJavaProperties(brokerConfigEntries(s.config))),
  });
}

/** Splits an update into the keys to apply and the keys RocketMQ has but denomq ignores; refuses the rest. */
function sortUpdate(settings: Map<string, string>, config: BrokerConfig): Map<string, string> {
  const byLowerCase = new Map(Object.keys(config).map((k) => [k.toLowerCase(), k]));
  const restartOnly: string[] = [];
  const unknown: string[] = [];
  const apply = new Map<string, string>();
  for (const [rawKey, value] of settings) {
    const key = byLowerCase.get(rawKey.toLowerCase());
    if (key && RESTART_ONLY_KEYS.has(key)) restartOnly.push(key);
    else if (key) apply.set(key, value);
    else if (!IGNORED_LOWER_CASE.has(rawKey.toLowerCase())) unknown.push(rawKey);
  }
  if (restartOnly.length > 0) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `Cannot update broker config: ${restartOnly.map((k) => `"${k}"`).join(", ")} can only be changed ` +
        `in broker.conf followed by a restart; nothing was changed`,
    );
  }
  if (unknown.length > 0) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `Cannot update broker config: unknown key ${unknown.map((k) => `"${k}"`).join(", ")}; nothing was changed`,
    );
  }
  return apply;
}

/** Handles UPDATE_BROKER_CONFIG: the body is properties text; no body changes nothing, as in RocketMQ. */
export function handleUpdateBrokerConfig(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  if (!request.body || request.body.length === 0) return createResponse(request, ResponseCode.SUCCESS);
  const settings = parseJavaProperties(decoder.decode(request.body));
  if (settings.size > UPDATE_KEYS_MAX) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `Cannot update broker config: ${settings.size} keys, limit is ${UPDATE_KEYS_MAX}`,
    );
  }
  const apply = sortUpdate(settings, s.config);
  const next: BrokerConfig = { ...s.config };
  try {
    applyBrokerSettings(next, apply);
    validateBrokerConfig(next);
  } catch (error) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, `Cannot update broker config: ${(error as Error).message}`);
  }
  const target = s.config as unknown as Record<string, unknown>;
  const changed: string[] = [];
  for (const key of apply.keys()) {
    const value = (next as unknown as Record<string, unknown>)[key];
    if (target[key] !== value) {
      target[key] = value;
      changed.push(key);
    }
  }
  const ignored = [...settings.keys()].filter((k) => !apply.has(k) && IGNORED_LOWER_CASE.has(k.toLowerCase()));
  if (ignored.length > 0) s.log.info("Broker config keys {keys} accepted and ignored", { keys: ignored.join(", ") });
  if (changed.length > 0) {
    s.configDataVersion = { counter: s.configDataVersion.counter + 1, timestamp: s.now() };
    s.log.info("Broker config updated: {changes}", {
      changes: changed.map((k) => `${k}=${String(target[k])}`).join(", "),
    });
  }
  // The NameServers learn a new permission from the topic table, so it gets a new data version.
  if (changed.includes("brokerPermission")) s.topics.touch();
  return createResponse(request, ResponseCode.SUCCESS);
}
