/**
 * `consumerProgress [-g <group>] [-t <topic>] [-s true]`: per-queue broker and consumer offsets,
 * lag in messages and seconds (mqadmin consumerProgress, plus a `#Lag(s)` column). Without `-g`,
 * one line per group, a page at a time.
 *
 * @module
 */

import { type AdminCommand, boolFlag, formatTime, intFlag, optional, printJson, table } from "./_command.ts";

/** The consumerProgress subcommand. */
export const consumerProgress: AdminCommand = {
  name: "consumerProgress",
  description: "Query consumers's progress, speed",
  options: {
    groupName: { type: "string", short: "g" },
    topic: { type: "string", short: "t" },
    showClientIP: { type: "string", short: "s" },
    page: { type: "string" },
    pageSize: { type: "string" },
  },
  usage: [
    "  -g, --groupName <group>        consumer group name (without it: every group)",
    "  -t, --topic <topic>            only this topic",
    "  -s, --showClientIP <bool>      show the client of each queue [default: false]",
    "      --page <n>, --pageSize <n> which groups without -g [default: 1, 100]",
  ].join("\n"),
  async run(context) {
    const group = optional(context, "groupName");
    if (!group) {
      const page = await context.ops.groupPage({
        page: intFlag(context, "page", "--page", { min: 1 }),
        pageSize: intFlag(context, "pageSize", "--pageSize", { fallback: 100, min: 1, max: 100 }),
      });
      if (context.json) return printJson(context, page);
      context.out(table(
        ["#Group", "#Count", "#Type", "#Model", "#TPS", "#Diff Total", "#Max Lag(s)"],
        page.items.map((
          g,
        ) => [g.group, g.online, g.consumeType || "-", g.messageModel || "-", g.consumeTps, g.lag, g.lagSecondsMax]),
      ));
      if (page.total > page.items.length) context.out(`(${page.items.length} of ${page.total} groups; use --page)`);
      return;
    }
    const progress = await context.ops.consumerProgress(group, {
      topic: optional(context, "topic"),
      showClientIp: boolFlag(context, "showClientIP", "-s", false),
    });
    if (context.json) return printJson(context, progress);
    context.out(table(
      [
        "#Topic",
        "#Broker Name",
        "#QID",
        "#Broker Offset",
        "#Consumer Offset",
        "#Client IP",
        "#Diff",
        "#Lag(s)",
        "#LastTime",
      ],
      progress.queues.map((q) => [
        q.topic,
        q.brokerName,
        q.queueId,
        q.brokerOffset,
        q.consumerOffset,
        q.clientId || "N/A",
        q.lag,
        q.lagSeconds,
        formatTime(q.lastTimestamp),
      ]),
    ));
    context.out("");
    context.out(`Consume TPS: ${progress.consumeTps}`);
    context.out(`Consume Diff Total: ${progress.lag}`);
  },
};
