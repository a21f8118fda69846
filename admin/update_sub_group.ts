/**
 * `updateSubGroup -g <group> -b <addr> | -c <cluster>`: create or update a consumer group's
 * settings (mqadmin updateSubGroup, same flags).
 *
 * @module
 */

import { readGroupConfig } from "../ops/bodies.ts";
import { type AdminCommand, boolFlag, intFlag, optional, printJson, required } from "./_command.ts";

/** The updateSubGroup subcommand. */
export const updateSubGroup: AdminCommand = {
  name: "updateSubGroup",
  description: "Update or create subscription group",
  options: {
    brokerAddr: { type: "string", short: "b" },
    clusterName: { type: "string", short: "c" },
    groupName: { type: "string", short: "g" },
    consumeEnable: { type: "string", short: "s" },
    consumeFromMinEnable: { type: "string", short: "m" },
    consumeBroadcastEnable: { type: "string", short: "d" },
    retryQueueNums: { type: "string", short: "q" },
    retryMaxTimes: { type: "string", short: "r" },
    brokerId: { type: "string", short: "i" },
    whichBrokerWhenConsumeSlowly: { type: "string", short: "w" },
    notifyConsumerIdsChanged: { type: "string", short: "a" },
  },
  usage: [
    "  -g, --groupName <group>                   consumer group name (required)",
    "  -b, --brokerAddr <addr>                   create on this broker",
    "  -c, --clusterName <cluster>               create on every master of the cluster",
    "  -s, --consumeEnable <true|false>          consume enable [default: true]",
    "  -m, --consumeFromMinEnable <true|false>   from min offset [default: false]",
    "  -d, --consumeBroadcastEnable <true|false> broadcast [default: false]",
    "  -q, --retryQueueNums <n>                  retry queues [default: 1]",
    "  -r, --retryMaxTimes <n>                   retries before the DLQ [default: 16]",
    "  -i, --brokerId <id>                       consume from which broker id [default: 0]",
    "  -w, --whichBrokerWhenConsumeSlowly <id>   [default: 1]",
    "  -a, --notifyConsumerIdsChanged <bool>     [default: true]",
  ].join("\n"),
  async run(context) {
    const group = required(context, "groupName", "-g <groupName>");
    const addrs = await context.ops.targets(optional(context, "brokerAddr"), optional(context, "clusterName"));
    const config = readGroupConfig({
      groupName: group,
      consumeEnable: boolFlag(context, "consumeEnable", "-s", true),
      consumeFromMinEnable: boolFlag(context, "consumeFromMinEnable", "-m", false),
      consumeBroadcastEnable: boolFlag(context, "consumeBroadcastEnable", "-d", false),
      retryQueueNums: intFlag(context, "retryQueueNums", "-q", { fallback: 1, max: 1024 }),
      retryMaxTimes: intFlag(context, "retryMaxTimes", "-r", { fallback: 16, max: 10_000 }),
      brokerId: intFlag(context, "brokerId", "-i", { fallback: 0 }),
      whichBrokerWhenConsumeSlowly: intFlag(context, "whichBrokerWhenConsumeSlowly", "-w", { fallback: 1 }),
      notifyConsumerIdsChangedEnable: boolFlag(context, "notifyConsumerIdsChanged", "-a", true),
    });
    await context.ops.updateGroup(addrs, config);
    if (context.json) return printJson(context, { group: config, brokers: addrs });
    for (const addr of addrs) context.out(`create subscription group to ${addr} success.\n${JSON.stringify(config)}`);
  },
};
