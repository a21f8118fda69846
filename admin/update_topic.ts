/**
 * `updateTopic`: create or update a topic on a broker (`-b`) or every master of a cluster (`-c`),
 * with mqadmin's flags.
 *
 * @module
 */

import { type AdminCommand, boolFlag, intFlag, optional, printJson, required } from "./_command.ts";

/** The updateTopic subcommand. */
export const updateTopic: AdminCommand = {
  name: "updateTopic",
  description: "Create or update a topic",
  options: {
    topic: { type: "string", short: "t" },
    brokerAddr: { type: "string", short: "b" },
    clusterName: { type: "string", short: "c" },
    readQueueNums: { type: "string", short: "r" },
    writeQueueNums: { type: "string", short: "w" },
    perm: { type: "string", short: "p" },
    order: { type: "string", short: "o" },
  },
  usage: [
    "  -t, --topic <topic>           topic name (required)",
    "  -b, --brokerAddr <addr>       create on this broker",
    "  -c, --clusterName <cluster>   create on every master of the cluster",
    "  -r, --readQueueNums <n>       read queues [default: 8]",
    "  -w, --writeQueueNums <n>      write queues [default: 8]",
    "  -p, --perm <n>                permission bits [default: 6]",
    "  -o, --order <true|false>      ordered topic [default: false]",
  ].join("\n"),
  async run(context) {
    const topic = required(context, "topic", "-t <topic>");
    const addrs = await context.ops.createTopic({
      topic,
      brokerAddr: optional(context, "brokerAddr"),
      clusterName: optional(context, "clusterName"),
      readQueueNums: intFlag(context, "readQueueNums", "-r", { max: 1024 }),
      writeQueueNums: intFlag(context, "writeQueueNums", "-w", { max: 1024 }),
      perm: intFlag(context, "perm", "-p", { max: 15 }),
      order: boolFlag(context, "order", "-o", false),
    });
    if (context.json) return printJson(context, { topic, brokers: addrs });
    for (const addr of addrs) context.out(`create topic to ${addr} success.`);
  },
};
