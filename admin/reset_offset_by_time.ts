/**
 * `resetOffsetByTime -g <group> -t <topic> -s <time> [-f true|false]`: move a group's offsets to
 * the first message stored at or after a time, telling online clients (mqadmin resetOffsetByTime).
 *
 * @module
 */

import { parseTimestamp } from "../ops/admin_ops.ts";
import { type AdminCommand, boolFlag, printJson, required, table } from "./_command.ts";

/** The resetOffsetByTime subcommand. */
export const resetOffsetByTime: AdminCommand = {
  name: "resetOffsetByTime",
  description: "Reset consumer offset by timestamp(without client restart)",
  options: {
    group: { type: "string", short: "g" },
    topic: { type: "string", short: "t" },
    timestamp: { type: "string", short: "s" },
    force: { type: "string", short: "f" },
  },
  usage: [
    "  -g, --group <group>       consumer group (required)",
    "  -t, --topic <topic>       topic (required)",
    "  -s, --timestamp <time>    now | epoch ms | yyyy-MM-dd#HH:mm:ss:SSS | ISO 8601 (required)",
    "  -f, --force <true|false>  also move offsets forward [default: true]",
  ].join("\n"),
  async run(context) {
    const group = required(context, "group", "-g <group>");
    const topic = required(context, "topic", "-t <topic>");
    const timestamp = parseTimestamp(required(context, "timestamp", "-s <timestamp>"));
    const rows = await context.ops.resetOffsetByTime(group, topic, timestamp, boolFlag(context, "force", "-f", true));
    if (context.json) return printJson(context, { group, topic, timestamp, queues: rows });
    context.out(`rollback consumer offset by specified group[${group}], topic[${topic}], timestamp(ms)[${timestamp}]`);
    context.out(table(["#brokerName", "#queueId", "#offset"], rows.map((r) => [r.brokerName, r.queueId, r.offset])));
  },
};
