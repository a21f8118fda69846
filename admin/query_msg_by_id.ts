/**
 * `queryMsgById -i <msgId> [-t <topic>]`: one message by its offsetMsgId, or by its client id
 * given the topic (mqadmin queryMsgById).
 *
 * @module
 */

import { messageBlock } from "./_message.ts";
import { type AdminCommand, optional, printJson, required } from "./_command.ts";

/** The queryMsgById subcommand. */
export const queryMsgById: AdminCommand = {
  name: "queryMsgById",
  description: "Query Message by Id",
  options: {
    msgId: { type: "string", short: "i" },
    topic: { type: "string", short: "t" },
  },
  usage: [
    "  -i, --msgId <id>      offsetMsgId, or a client message id with -t (required)",
    "  -t, --topic <topic>   the topic, to look a client message id up in the index",
  ].join("\n"),
  async run(context) {
    const msgId = required(context, "msgId", "-i <msgId>");
    const message = await context.ops.queryById(msgId, optional(context, "topic"));
    if (context.json) return printJson(context, message);
    context.out(messageBlock(message));
  },
};
