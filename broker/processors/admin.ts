/**
 * Admin request codes beyond topics: subscription groups, runtime info, stats, connections,
 * offsets, broker config and the relays to clients. Each family lives in its own file; this one
 * lists their table entries for `mod.ts`.
 *
 * @module
 */

import type { ProcessorEntry } from "../../remoting/server.ts";
import type { BrokerServices } from "./context.ts";

/** Table entries of the admin families. */
export function adminEntries(_s: BrokerServices): [number, ProcessorEntry][] {
  return [];
}
