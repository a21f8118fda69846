/**
 * `updateBrokerConfig -b <addr> | -c <cluster> -k <key> -v <value>`: change one broker config key
 * at run time (mqadmin updateBrokerConfig). Keys that need a restart are refused by the broker.
 *
 * @module
 */

import { type AdminCommand, optional, printJson, required } from "./_command.ts";

/** The updateBrokerConfig subcommand. */
export const updateBrokerConfig: AdminCommand = {
  name: "updateBrokerConfig",
  description: "Update broker's config",
  options: {
    brokerAddr: { type: "string", short: "b" },
    clusterName: { type: "string", short: "c" },
    key: { type: "string", short: "k" },
    value: { type: "string", short: "v" },
  },
  usage: [
    "  -b, --brokerAddr <addr>       this broker",
    "  -c, --clusterName <cluster>   every master of the cluster",
    "  -k, --key <key>               config key (required)",
    "  -v, --value <value>           config value (required)",
  ].join("\n"),
  async run(context) {
    const key = required(context, "key", "-k <key>");
    const value = context.values.value;
    if (typeof value !== "string") required(context, "value", "-v <value>");
    const addrs = await context.ops.targets(optional(context, "brokerAddr"), optional(context, "clusterName"));
    await context.ops.updateBrokerConfig(addrs, key, value as string);
    if (context.json) return printJson(context, { key, value, brokers: addrs });
    for (const addr of addrs) context.out(`update broker config success, ${addr}`);
  },
};
