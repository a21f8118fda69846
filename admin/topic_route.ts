/**
 * `topicRoute -t <topic>`: the route a client would get.
 *
 * @module
 */

import { type AdminCommand, printJson, required, table } from "./_command.ts";

/** The topicRoute subcommand. */
export const topicRoute: AdminCommand = {
  name: "topicRoute",
  description: "Show a topic's route (brokers and queues)",
  options: { topic: { type: "string", short: "t" } },
  usage: "  -t, --topic <topic>   topic name (required)",
  async run(context) {
    const topic = required(context, "topic", "-t <topic>");
    const route = await context.ops.topicRoute(topic);
    if (context.json) {
      return printJson(context, {
        brokerDatas: route.brokerDatas.map((b) => ({ ...b, brokerAddrs: Object.fromEntries(b.brokerAddrs) })),
        queueDatas: route.queueDatas,
      });
    }
    context.out(table(
      ["#Broker Name", "#Read Queues", "#Write Queues", "#Perm", "#Addrs"],
      route.queueDatas.map((q) => {
        const broker = route.brokerDatas.find((b) => b.brokerName === q.brokerName);
        const addrs = [...(broker?.brokerAddrs ?? [])].map(([id, a]) => `${id}=${a}`).join(",");
        return [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm, addrs];
      }),
    ));
  },
};
