/**
 * `topicStatus -t <topic>`: min and max offsets and last store time per queue (mqadmin topicStatus).
 *
 * @module
 */

import { type AdminCommand, formatTime, printJson, required, table } from "./_command.ts";

/** The topicStatus subcommand. */
export const topicStatus: AdminCommand = {
  name: "topicStatus",
  description: "Examine topic Status info",
  options: { topic: { type: "string", short: "t" } },
  usage: "  -t, --topic <topic>   topic name (required)",
  async run(context) {
    const topic = required(context, "topic", "-t <topic>");
    const queues = await context.ops.topicStatus(topic);
    if (context.json) return printJson(context, queues);
    context.out(table(
      ["#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated"],
      queues.map((q) => [q.brokerName, q.queueId, q.minOffset, q.maxOffset, formatTime(q.lastUpdateTimestamp)]),
    ));
  },
};
