/**
 * `queryMsgByOffset -t <topic> -b <brokerName> -i <queueId> -o <offset>`: the message at a queue
 * offset (mqadmin queryMsgByOffset).
 *
 * @module
 */

import { messageBlock } from "./_message.ts";
import { type AdminCommand, intFlag, printJson, required } from "./_command.ts";

/** The queryMsgByOffset subcommand. */
export const queryMsgByOffset: AdminCommand = {
  name: "queryMsgByOffset",
  description: "Query Message by offset",
  options: {
    topic: { type: "string", short: "t" },
    brokerName: { type: "string", short: "b" },
    queueId: { type: "string", short: "i" },
    offset: { type: "string", short: "o" },
  },
  usage: [
    "  -t, --topic <topic>        topic name (required)",
    "  -b, --brokerName <name>    broker name (required)",
    "  -i, --queueId <id>         queue id (required)",
    "  -o, --offset <n>           queue offset (required)",
  ].join("\n"),
  async run(context) {
    const topic = required(context, "topic", "-t <topic>");
    const brokerName = required(context, "brokerName", "-b <brokerName>");
    required(context, "queueId", "-i <queueId>");
    required(context, "offset", "-o <offset>");
    const queueId = intFlag(context, "queueId", "-i", { max: 65535 })!;
    const offset = intFlag(context, "offset", "-o")!;
    const message = await context.ops.queryByOffset(topic, brokerName, queueId, offset);
    if (context.json) return printJson(context, message);
    context.out(messageBlock(message));
  },
};
