/**
 * `updateTopic`: create or update a topic on a broker (`-b`) or every master of a cluster (`-c`),
 * with mqadmin's flags.
 *
 * @module
 */

import { decodeJsonBody, readClusterInfo } from "../protocol/bodies.ts";
import { toExtFields } from "../protocol/header.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { type AdminCommand, AdminError, callNameServer, callOk } from "./_command.ts";

function intFlag(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new AdminError(`Invalid ${name} "${value}": expected a non-negative integer`);
  }
  return n;
}

/** The updateTopic subcommand. */
export const updateTopic: AdminCommand = {
  name: "updateTopic",
  description: "Create or update a topic",
  options: {
    topic: { type: "string", short: "t" },
    brokerAddr: { type: "string", short: "b" },
    clusterName: { type: "string", short: "c" },
    readQueueNums: { type: "string", short: "r" },
    writeQueueNums: { type: "string", short: "w" },
    perm: { type: "string", short: "p" },
    order: { type: "string", short: "o" },
  },
  usage: [
    "  -t, --topic <topic>           topic name (required)",
    "  -b, --brokerAddr <addr>       create on this broker",
    "  -c, --clusterName <cluster>   create on every master of the cluster",
    "  -r, --readQueueNums <n>       read queues [default: 8]",
    "  -w, --writeQueueNums <n>      write queues [default: 8]",
    "  -p, --perm <n>                permission bits [default: 6]",
    "  -o, --order <true|false>      ordered topic [default: false]",
  ].join("\n"),
  async run(context) {
    const v = context.values;
    const topic = v.topic as string | undefined;
    if (!topic) throw new AdminError("Missing -t <topic>");
    let targets: string[];
    if (v.brokerAddr) targets = [v.brokerAddr as string];
    else if (v.clusterName) {
      const response = await callNameServer(context, RequestCode.GET_BROKER_CLUSTER_INFO);
      if (response.code !== ResponseCode.SUCCESS) throw new AdminError(response.remark ?? "cluster info failed");
      const info = readClusterInfo(decodeJsonBody(response.body, "cluster info"));
      const names = info.clusterAddrTable.get(v.clusterName as string);
      if (!names) throw new AdminError(`Cluster "${v.clusterName}" not found`);
      targets = [...names].map((n) => info.brokerAddrTable.get(n)?.brokerAddrs.get(0)).filter((a): a is string => !!a);
    } else throw new AdminError("Missing -b <brokerAddr> or -c <clusterName>");
    const fields = toExtFields({
      topic,
      defaultTopic: "TBW102",
      readQueueNums: intFlag(v.readQueueNums, "-r", 8),
      writeQueueNums: intFlag(v.writeQueueNums, "-w", 8),
      perm: intFlag(v.perm, "-p", 6),
      topicFilterType: "SINGLE_TAG",
      topicSysFlag: 0,
      order: v.order === "true",
    });
    for (const addr of targets) {
      await callOk(context, addr, RequestCode.UPDATE_AND_CREATE_TOPIC, fields);
      if (!context.json) context.out(`create topic to ${addr} success.`);
    }
    if (context.json) context.out(JSON.stringify({ topic, brokers: targets }));
  },
};
