/**
 * `getBrokerConfig -b <addr> | -c <cluster>`: a broker's effective config (mqadmin getBrokerConfig).
 *
 * @module
 */

import { type AdminCommand, optional, printJson } from "./_command.ts";

/** The getBrokerConfig subcommand. */
export const getBrokerConfig: AdminCommand = {
  name: "getBrokerConfig",
  description: "Get broker config by cluster or special broker",
  options: {
    brokerAddr: { type: "string", short: "b" },
    clusterName: { type: "string", short: "c" },
  },
  usage: [
    "  -b, --brokerAddr <addr>       this broker",
    "  -c, --clusterName <cluster>   every master of the cluster",
  ].join("\n"),
  async run(context) {
    const cluster = optional(context, "clusterName");
    const addrs = await context.ops.targets(optional(context, "brokerAddr"), cluster);
    const all: Record<string, Record<string, string>> = {};
    for (const addr of addrs) all[addr] = await context.ops.brokerConfig(addr);
    if (context.json) return printJson(context, cluster ? all : all[addrs[0]]);
    for (const addr of addrs) {
      context.out(`============${addr}============`);
      for (const [key, value] of Object.entries(all[addr])) context.out(`${key.padEnd(50)}=  ${value}`);
    }
  },
};
