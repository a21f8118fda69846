/**
 * `sendMessage -t <topic> -p <body> [-k keys] [-c tags] [-b broker] [-i queueId]`: send one
 * message (mqadmin sendMessage).
 *
 * @module
 */

import { type AdminCommand, intFlag, optional, printJson, required, table } from "./_command.ts";

/** The sendMessage subcommand. */
export const sendMessage: AdminCommand = {
  name: "sendMessage",
  description: "Send a message",
  options: {
    topic: { type: "string", short: "t" },
    body: { type: "string", short: "p" },
    key: { type: "string", short: "k" },
    tags: { type: "string", short: "c" },
    broker: { type: "string", short: "b" },
    qid: { type: "string", short: "i" },
  },
  usage: [
    "  -t, --topic <topic>     topic name (required)",
    "  -p, --body <text>       UTF-8 message body (required)",
    "  -k, --key <keys>        message keys, space-separated",
    "  -c, --tags <tag>        message tag",
    "  -b, --broker <name>     send to this broker",
    "  -i, --qid <id>          send to this queue (with -b)",
  ].join("\n"),
  async run(context) {
    const topic = required(context, "topic", "-t <topic>");
    const body = context.values.body;
    if (typeof body !== "string") required(context, "body", "-p <body>");
    const result = await context.ops.sendMessage({
      topic,
      body: body as string,
      keys: optional(context, "key"),
      tags: optional(context, "tags"),
      brokerName: optional(context, "broker"),
      queueId: intFlag(context, "qid", "-i", { max: 65535 }),
    });
    if (context.json) return printJson(context, result);
    context.out(table(
      ["#Broker Name", "#QID", "#Send Result", "#MsgId", "#OffsetMsgId", "#Queue Offset"],
      [[result.brokerName, result.queueId, result.status, result.msgId, result.offsetMsgId, result.queueOffset]],
    ));
  },
};
