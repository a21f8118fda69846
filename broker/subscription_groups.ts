/**
 * Consumer group settings (RocketMQ `SubscriptionGroupManager`): retry queues, max retries,
 * whether consuming is enabled. Auto-created on first use when `autoCreateSubscriptionGroup`.
 * Persisted as `config/subscriptionGroup.json`.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { type DataVersion, readDataVersion } from "../protocol/bodies.ts";
import { stringifyFastJson } from "../protocol/fastjson.ts";
import {
  newSubscriptionGroupConfig,
  readSubscriptionGroupConfig,
  type SubscriptionGroupConfig,
  subscriptionGroupJson,
} from "../protocol/bodies.ts";
import type { BrokerConfig } from "./config.ts";

export { newSubscriptionGroupConfig, readSubscriptionGroupConfig, type SubscriptionGroupConfig, subscriptionGroupJson };
import { ConfigFileWriter, readConfigFile } from "./config_file.ts";

/** Groups RocketMQ creates at start. */
const SYSTEM_GROUPS = [
  "TOOLS_CONSUMER",
  "FILTERSRV_CONSUMER",
  "SELF_TEST_C_GROUP",
  "CID_ONS-HTTP-PROXY",
  "CID_ONSAPI_PULL",
  "CID_ONSAPI_PERMISSION",
  "CID_ONSAPI_OWNER",
  "CID_SYS_RMQ_TRANS",
];

/** Groups a broker may hold: a bound on memory. */
export const GROUPS_MAX = 100_000;

/** The broker's consumer-group table. */
export class SubscriptionGroupManager {
  readonly #table = new Map<string, SubscriptionGroupConfig>();
  readonly #config: BrokerConfig;
  readonly #log: Logger;
  readonly #writer: ConfigFileWriter;
  #dataVersion: DataVersion = { counter: 0, timestamp: Date.now() };

  constructor(options: { config: BrokerConfig; path: string; log: Logger }) {
    this.#config = options.config;
    this.#log = options.log;
    this.#writer = new ConfigFileWriter(options.path, () => this.encode(), options.log);
  }

  /** Loads subscriptionGroup.json and adds the system groups. */
  async load(path: string): Promise<void> {
    const data = await readConfigFile(path, this.#log) as Record<string, unknown> | undefined;
    if (data?.subscriptionGroupTable && typeof data.subscriptionGroupTable === "object") {
      for (const [name, raw] of Object.entries(data.subscriptionGroupTable as Record<string, unknown>)) {
        this.#table.set(name, readSubscriptionGroupConfig(raw, name));
      }
      if (data.dataVersion) this.#dataVersion = readDataVersion(data.dataVersion);
    }
    for (const name of SYSTEM_GROUPS) {
      if (!this.#table.has(name)) this.#table.set(name, newSubscriptionGroupConfig(name));
    }
    this.#changed();
    await this.#writer.flush();
  }

  /** The group's config, auto-created when allowed; undefined otherwise. */
  find(group: string): SubscriptionGroupConfig | undefined {
    const existing = this.#table.get(group);
    if (existing || !this.#config.autoCreateSubscriptionGroup) return existing;
    if (this.#table.size >= GROUPS_MAX) return undefined;
    const created = newSubscriptionGroupConfig(group);
    this.#table.set(group, created);
    this.#log.info("Auto-created subscription group {group}", { group });
    this.#changed();
    return created;
  }

  /** The group's config without auto-creation. */
  get(group: string): SubscriptionGroupConfig | undefined {
    return this.#table.get(group);
  }

  /** All groups. */
  all(): IterableIterator<SubscriptionGroupConfig> {
    return this.#table.values();
  }

  /**
   * Creates or replaces a group (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).
   *
   * @throws {RangeError} above {@linkcode GROUPS_MAX} groups.
   */
  upsert(config: SubscriptionGroupConfig): void {
    if (!this.#table.has(config.groupName) && this.#table.size >= GROUPS_MAX) {
      throw new RangeError(
        `Cannot create group "${config.groupName}": ${this.#table.size} groups, limit is ${GROUPS_MAX}`,
      );
    }
    this.#table.set(config.groupName, config);
    this.#changed();
  }

  /** Deletes a group; returns whether it existed. */
  delete(group: string): boolean {
    if (!this.#table.delete(group)) return false;
    this.#changed();
    return true;
  }

  /** subscriptionGroup.json content. */
  encode(): string {
    const table: Record<string, unknown> = {};
    for (const [name, config] of this.#table) table[name] = subscriptionGroupJson(config);
    return stringifyFastJson({ dataVersion: this.#dataVersion, subscriptionGroupTable: table });
  }

  /** Writes the file if changed. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  #changed(): void {
    this.#dataVersion = { counter: this.#dataVersion.counter + 1, timestamp: Date.now() };
    this.#writer.markDirty();
    void this.#writer.flush();
  }
}
