/**
 * NameServer configuration: RocketMQ's `namesrv.conf` keys (Java properties), overridable by
 * flags. Unknown keys are warned about; bad values stop the start with the key, the value and
 * the expected form.
 *
 * @module
 */

import { parseJavaProperties } from "../protocol/bodies.ts";

/** NameServer settings, RocketMQ names. */
export interface NameServerConfig {
  /** TCP port (RocketMQ `listenPort`, default 9876). */
  listenPort: number;
  /** Address to bind (not a RocketMQ key: RocketMQ binds all interfaces). */
  listenHost: string;
  /** Serve `orderTopicConf` from the ORDER_TOPIC_CONFIG KV namespace in routes. */
  orderMessageEnable: boolean;
  /** Keys UPDATE_NAMESRV_CONFIG may not change, comma-separated. */
  configBlackList: string;
  /** Accepted for compatibility; the KV config is kept in memory. */
  kvConfigPath: string;
  /** Accepted for compatibility. */
  rocketmqHome: string;
  productEnvName: string;
  clusterTest: boolean;
}

/** Defaults, as RocketMQ 4.9.7 has them. */
export const DEFAULT_NAMESERVER_CONFIG: NameServerConfig = {
  listenPort: 9876,
  listenHost: "0.0.0.0",
  orderMessageEnable: false,
  configBlackList: "configBlackList;configStorePath;kvConfigPath;rocketmqHome",
  kvConfigPath: "",
  rocketmqHome: "",
  productEnvName: "center",
  clusterTest: false,
};

/** A config value that cannot be used. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Applies `key=value` settings onto `config`.
 *
 * @returns the keys that are not NameServer settings (the caller warns about them).
 * @throws {ConfigError} for a value of the wrong form.
 */
export function applyNameServerSettings(config: NameServerConfig, settings: Map<string, string>): string[] {
  const unknown: string[] = [];
  const target = config as unknown as Record<string, unknown>;
  for (const [key, raw] of settings) {
    const current = target[key];
    if (current === undefined) {
      unknown.push(key);
      continue;
    }
    const value = raw.trim();
    if (typeof current === "number") {
      const n = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
        throw new ConfigError(`Invalid value for "${key}": "${raw}", expected a non-negative integer`);
      }
      if (key === "listenPort" && n > 65535) {
        throw new ConfigError(`Invalid value for "listenPort": "${raw}", expected a port number 0-65535`);
      }
      target[key] = n;
    } else if (typeof current === "boolean") {
      if (value !== "true" && value !== "false") {
        throw new ConfigError(`Invalid value for "${key}": "${raw}", expected true or false`);
      }
      target[key] = value === "true";
    } else {
      target[key] = value;
    }
  }
  return unknown;
}

/** Reads a `namesrv.conf` properties file. */
export async function readNameServerConfigFile(path: string): Promise<Map<string, string>> {
  try {
    return parseJavaProperties(await Deno.readTextFile(path));
  } catch (error) {
    throw new ConfigError(`Cannot read config file "${path}": ${(error as Error).message}`, { cause: error });
  }
}

/** The config as `key=value` pairs (GET_NAMESRV_CONFIG). */
export function nameServerConfigEntries(config: NameServerConfig): Map<string, string> {
  return new Map(Object.entries(config).map(([k, v]) => [k, String(v)]));
}
