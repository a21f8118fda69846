/**
 * `clusterList`: clusters, brokers and their addresses (mqadmin clusterList).
 *
 * @module
 */

import { type AdminCommand, printJson, table } from "./_command.ts";

/** The clusterList subcommand. */
export const clusterList: AdminCommand = {
  name: "clusterList",
  description: "List clusters and their brokers",
  options: {},
  usage: "",
  async run(context) {
    const brokers = await context.ops.brokers();
    if (context.json) return printJson(context, brokers);
    context.out(table(
      ["#Cluster Name", "#Broker Name", "#BID", "#Addr"],
      brokers.map((b) => [b.cluster, b.brokerName, b.brokerId, b.addr]),
    ));
  },
};
