/**
 * `dlqList --group <group> [-b broker] [-o offset] [--max n]`: browse a consumer group's
 * dead-letter queue.
 *
 * @module
 */

import { DlqOps } from "../ops/dlq.ts";
import { bodyPreview } from "./_message.ts";
import { type AdminCommand, formatTime, intFlag, optional, printJson, required, table } from "./_command.ts";

/** The dlqList subcommand. */
export const dlqList: AdminCommand = {
  name: "dlqList",
  description: "Browse a consumer group's dead-letter queue",
  options: {
    group: { type: "string", short: "g" },
    brokerName: { type: "string", short: "b" },
    offset: { type: "string", short: "o" },
    max: { type: "string" },
  },
  usage: [
    "  -g, --group <group>         consumer group (required)",
    "  -b, --brokerName <name>     only this broker's DLQ queue",
    "  -o, --offset <n>            first queue offset [default: the oldest]",
    "      --max <n>               messages per queue, 1-32 [default: 20]",
  ].join("\n"),
  async run(context) {
    const group = required(context, "group", "--group <group>");
    const dlq = new DlqOps(context.ops, { audit: context.audit, actor: "cli" });
    const page = await dlq.browse(group, {
      brokerName: optional(context, "brokerName"),
      fromOffset: intFlag(context, "offset", "-o"),
      max: intFlag(context, "max", "--max", { fallback: 20, min: 1, max: 32 }),
    });
    if (context.json) return printJson(context, page);
    context.out(`DLQ ${page.topic}: ${page.total} message(s)`);
    context.out(table(
      ["#Broker Name", "#QID", "#Offset", "#Message ID", "#Original Topic", "#Keys", "#Tags", "#Store Time", "#Body"],
      page.queues.flatMap((q) =>
        q.messages.map((m) => [
          q.brokerName,
          q.queueId,
          m.queueOffset,
          m.msgId,
          m.properties.RETRY_TOPIC ?? "-",
          m.keys || "-",
          m.tags || "-",
          formatTime(m.storeTimestamp),
          bodyPreview(m, 32),
        ])
      ),
    ));
    for (const q of page.queues) {
      if (q.nextOffset < q.maxOffset) context.out(`(more in ${q.brokerName}/${q.queueId}: -o ${q.nextOffset})`);
    }
  },
};
