/**
 * `deleteSubGroup -g <group> -b <addr> | -c <cluster> [-r true]`: delete a consumer group's
 * settings, and with `-r true` its offsets (mqadmin deleteSubGroup).
 *
 * @module
 */

import { type AdminCommand, boolFlag, optional, printJson, required } from "./_command.ts";

/** The deleteSubGroup subcommand. */
export const deleteSubGroup: AdminCommand = {
  name: "deleteSubGroup",
  description: "Delete subscription group from broker",
  options: {
    brokerAddr: { type: "string", short: "b" },
    clusterName: { type: "string", short: "c" },
    groupName: { type: "string", short: "g" },
    removeOffset: { type: "string", short: "r" },
  },
  usage: [
    "  -g, --groupName <group>          subscription group name (required)",
    "  -b, --brokerAddr <addr>          from this broker",
    "  -c, --clusterName <cluster>      from every master of the cluster",
    "  -r, --removeOffset <true|false>  remove its offsets too [default: false]",
  ].join("\n"),
  async run(context) {
    const group = required(context, "groupName", "-g <groupName>");
    const addrs = await context.ops.targets(optional(context, "brokerAddr"), optional(context, "clusterName"));
    await context.ops.deleteGroup(addrs, group, boolFlag(context, "removeOffset", "-r", false));
    if (context.json) return printJson(context, { group, brokers: addrs });
    for (const addr of addrs) context.out(`delete subscription group [${group}] from broker [${addr}] success.`);
  },
};
