/**
 * `topicList`: every topic the NameServers route.
 *
 * @module
 */

import { type AdminCommand, printJson } from "./_command.ts";

/** The topicList subcommand. */
export const topicList: AdminCommand = {
  name: "topicList",
  description: "List all topics",
  options: {},
  usage: "",
  async run(context) {
    const topics = await context.ops.topicNames();
    if (context.json) return printJson(context, topics);
    context.out(topics.join("\n"));
  },
};
