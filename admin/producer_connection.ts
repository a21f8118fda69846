/**
 * `producerConnection -g <group>`: a producer group's clients (mqadmin producerConnection).
 *
 * @module
 */

import { type AdminCommand, printJson, required, table } from "./_command.ts";

/** The producerConnection subcommand. */
export const producerConnection: AdminCommand = {
  name: "producerConnection",
  description: "Query producer's socket connection and client version",
  options: { producerGroup: { type: "string", short: "g" } },
  usage: "  -g, --producerGroup <group>   producer group name (required)",
  async run(context) {
    const group = required(context, "producerGroup", "-g <producerGroup>");
    const connections = await context.ops.producerConnection(group);
    if (context.json) return printJson(context, connections);
    context.out(table(
      ["#", "#ClientId", "#ClientAddr", "#Language", "#Version"],
      connections.map((c, i) => [i + 1, c.clientId, c.clientAddr, c.language, c.version]),
    ));
  },
};
