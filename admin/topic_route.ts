/**
 * `topicRoute -t <topic>`: the route a client would get.
 *
 * @module
 */

import { decodeJsonBody, readTopicRouteData } from "../protocol/bodies.ts";
import { ResponseError } from "../protocol/errors.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { type AdminCommand, AdminError, callNameServer, table } from "./_command.ts";

/** The topicRoute subcommand. */
export const topicRoute: AdminCommand = {
  name: "topicRoute",
  description: "Show a topic's route (brokers and queues)",
  options: { topic: { type: "string", short: "t" } },
  usage: "  -t, --topic <topic>   topic name (required)",
  async run(context) {
    const topic = context.values.topic as string | undefined;
    if (!topic) throw new AdminError("Missing -t <topic>");
    const response = await callNameServer(context, RequestCode.GET_ROUTEINFO_BY_TOPIC, {
      topic,
      acceptStandardJsonOnly: "true",
    });
    if (response.code !== ResponseCode.SUCCESS) {
      throw new ResponseError(response.code, `Topic "${topic}": ${response.remark ?? "no route"}`.split("\n")[0]);
    }
    const route = readTopicRouteData(decodeJsonBody(response.body, "route"));
    if (context.json) {
      context.out(JSON.stringify({
        brokerDatas: route.brokerDatas.map((b) => ({ ...b, brokerAddrs: Object.fromEntries(b.brokerAddrs) })),
        queueDatas: route.queueDatas,
      }));
      return;
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
