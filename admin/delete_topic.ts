/**
 * `deleteTopic -t <topic> [-c <cluster>]`: delete a topic from its brokers, then from the
 * NameServers (mqadmin deleteTopic).
 *
 * @module
 */

import { type AdminCommand, optional, printJson, required } from "./_command.ts";

/** The deleteTopic subcommand. */
export const deleteTopic: AdminCommand = {
  name: "deleteTopic",
  description: "Delete topic from broker and NameServer",
  options: {
    topic: { type: "string", short: "t" },
    clusterName: { type: "string", short: "c" },
  },
  usage: [
    "  -t, --topic <topic>           topic name (required)",
    "  -c, --clusterName <cluster>   only from this cluster's brokers",
  ].join("\n"),
  async run(context) {
    const topic = required(context, "topic", "-t <topic>");
    const cluster = optional(context, "clusterName");
    const addrs = await context.ops.deleteTopic(topic, cluster);
    if (context.json) return printJson(context, { topic, brokers: addrs });
    context.out(
      `delete topic [${topic}] from ${cluster ? `cluster [${cluster}]` : `brokers [${addrs.join(", ")}]`} success.`,
    );
    context.out(`delete topic [${topic}] from NameServer success.`);
  },
};
