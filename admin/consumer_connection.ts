/**
 * `consumerConnection -g <group> [-b <addr>]`: a group's clients, subscriptions and consume
 * settings (mqadmin consumerConnection).
 *
 * @module
 */

import { type AdminCommand, optional, printJson, required, table } from "./_command.ts";

/** The consumerConnection subcommand. */
export const consumerConnection: AdminCommand = {
  name: "consumerConnection",
  description: "Query consumer's socket connection, client version and subscription",
  options: {
    consumerGroup: { type: "string", short: "g" },
    brokerAddr: { type: "string", short: "b" },
  },
  usage: [
    "  -g, --consumerGroup <group>   consumer group name (required)",
    "  -b, --brokerAddr <addr>       ask this broker",
  ].join("\n"),
  async run(context) {
    const group = required(context, "consumerGroup", "-g <consumerGroup>");
    const connection = await context.ops.consumerConnection(group, optional(context, "brokerAddr"));
    if (context.json) return printJson(context, connection);
    context.out(table(
      ["#", "#ClientId", "#ClientAddr", "#Language", "#Version"],
      connection.connections.map((c, i) => [i + 1, c.clientId, c.clientAddr, c.language, c.version]),
    ));
    context.out("");
    context.out("Below is subscription:");
    context.out(table(
      ["#", "#Topic", "#SubExpression"],
      connection.subscriptions.map((s, i) => [i + 1, s.topic, s.subString]),
    ));
    context.out("");
    context.out(`ConsumeType: ${connection.consumeType}`);
    context.out(`MessageModel: ${connection.messageModel}`);
    context.out(`ConsumeFromWhere: ${connection.consumeFromWhere}`);
  },
};
