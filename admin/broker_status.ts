/**
 * `brokerStatus -b <addr> | -c <cluster>`: a broker's runtime info (GET_BROKER_RUNTIME_INFO),
 * as mqadmin brokerStatus prints it.
 *
 * @module
 */

import { type AdminCommand, optional, printJson } from "./_command.ts";

/** The brokerStatus subcommand. */
export const brokerStatus: AdminCommand = {
  name: "brokerStatus",
  description: "Fetch broker runtime status data",
  options: {
    brokerAddr: { type: "string", short: "b" },
    clusterName: { type: "string", short: "c" },
  },
  usage: [
    "  -b, --brokerAddr <addr>       broker address",
    "  -c, --clusterName <cluster>   every master of the cluster",
  ].join("\n"),
  async run(context) {
    const cluster = optional(context, "clusterName");
    const addrs = await context.ops.targets(optional(context, "brokerAddr"), cluster);
    const all: Record<string, Record<string, string>> = {};
    for (const addr of addrs) all[addr] = await context.ops.runtimeInfo(addr);
    if (context.json) return printJson(context, cluster ? all : all[addrs[0]]);
    for (const addr of addrs) {
      const keys = Object.keys(all[addr]).sort();
      for (const key of keys) {
        context.out(
          cluster ? `${addr.padEnd(24)} ${key.padEnd(32)}: ${all[addr][key]}` : `${key.padEnd(32)}: ${all[addr][key]}`,
        );
      }
    }
  },
};
