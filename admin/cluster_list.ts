/**
 * `clusterList`: clusters, brokers and their addresses (mqadmin's clusterList).
 *
 * @module
 */

import { decodeJsonBody, readClusterInfo } from "../protocol/bodies.ts";
import { ResponseError } from "../protocol/errors.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { type AdminCommand, callNameServer, table } from "./_command.ts";

/** The clusterList subcommand. */
export const clusterList: AdminCommand = {
  name: "clusterList",
  description: "List clusters and their brokers",
  options: {},
  usage: "",
  async run(context) {
    const response = await callNameServer(context, RequestCode.GET_BROKER_CLUSTER_INFO);
    if (response.code !== ResponseCode.SUCCESS) throw new ResponseError(response.code, response.remark ?? "failed");
    const info = readClusterInfo(decodeJsonBody(response.body, "cluster info"));
    const rows: (string | number)[][] = [];
    for (const [cluster, names] of info.clusterAddrTable) {
      for (const name of [...names].sort()) {
        const broker = info.brokerAddrTable.get(name);
        for (const [id, addr] of [...(broker?.brokerAddrs ?? [])].sort((a, b) => a[0] - b[0])) {
          rows.push([cluster, name, id, addr]);
        }
      }
    }
    if (context.json) {
      context.out(
        JSON.stringify(rows.map(([cluster, brokerName, brokerId, addr]) => ({ cluster, brokerName, brokerId, addr }))),
      );
    } else {
      context.out(table(["#Cluster Name", "#Broker Name", "#BID", "#Addr"], rows));
    }
  },
};
