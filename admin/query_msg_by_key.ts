/**
 * `queryMsgByKey -t <topic> -k <key>`: messages with a key, through the brokers' index
 * (mqadmin queryMsgByKey).
 *
 * @module
 */

import { parseTimestamp } from "../ops/admin_ops.ts";
import { bodyPreview } from "./_message.ts";
import { type AdminCommand, formatTime, intFlag, optional, printJson, required, table } from "./_command.ts";

/** The queryMsgByKey subcommand. */
export const queryMsgByKey: AdminCommand = {
  name: "queryMsgByKey",
  description: "Query Message by Key",
  options: {
    topic: { type: "string", short: "t" },
    msgKey: { type: "string", short: "k" },
    maxNum: { type: "string", short: "c" },
    beginTimestamp: { type: "string" },
    endTimestamp: { type: "string" },
  },
  usage: [
    "  -t, --topic <topic>          topic name (required)",
    "  -k, --msgKey <key>           message key (required)",
    "  -c, --maxNum <n>             most messages [default: 64]",
    "      --beginTimestamp <time>  stored at or after",
    "      --endTimestamp <time>    stored at or before",
  ].join("\n"),
  async run(context) {
    const topic = required(context, "topic", "-t <topic>");
    const key = required(context, "msgKey", "-k <msgKey>");
    const begin = optional(context, "beginTimestamp");
    const end = optional(context, "endTimestamp");
    const messages = await context.ops.queryByKey(topic, key, {
      maxNum: intFlag(context, "maxNum", "-c", { min: 1, max: 64 }),
      beginMs: begin ? parseTimestamp(begin) : undefined,
      endMs: end ? parseTimestamp(end) : undefined,
    });
    if (context.json) return printJson(context, messages);
    context.out(table(
      ["#Message ID", "#Offset ID", "#Broker", "#QID", "#Offset", "#Store Time", "#Body"],
      messages.map((m) => [
        m.msgId,
        m.offsetMsgId,
        m.brokerName,
        m.queueId,
        m.queueOffset,
        formatTime(m.storeTimestamp),
        bodyPreview(m),
      ]),
    ));
  },
};
