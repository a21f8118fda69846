/**
 * What NameServer handlers share: the route table, the KV config, the live config and a logger.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { NameServerConfig } from "../config.ts";
import type { KvConfig } from "../kv_config.ts";
import type { RouteTable } from "../route_table.ts";

/** Services the NameServer's handlers call. */
export interface NameServerServices {
  routes: RouteTable;
  kv: KvConfig;
  config: NameServerConfig;
  log: Logger;
  /** Topics allowed in one registration body (bounds the work of one request). */
  topicsPerRegistrationMax: number;
}
