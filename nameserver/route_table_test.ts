import assert from "node:assert/strict";
import type { TopicConfig } from "../protocol/bodies.ts";
import { RouteTable } from "./route_table.ts";

const topic = (name: string, queues = 4): TopicConfig => ({
  topicName: name,
  readQueueNums: queues,
  writeQueueNums: queues,
  perm: 6,
  topicFilterType: "SINGLE_TAG",
  topicSysFlag: 0,
  order: false,
});

function register(
  table: RouteTable,
  brokerAddr: string,
  brokerId: number,
  topics: TopicConfig[],
  counter = 1,
  connectionId = 1,
) {
  return table.register({
    clusterName: "C",
    brokerAddr,
    brokerName: "b",
    brokerId,
    haServerAddr: `${brokerAddr}-ha`,
    topicConfigWrapper: {
      dataVersion: { counter, timestamp: 1 },
      topicConfigTable: new Map(topics.map((t) => [t.topicName, t])),
    },
    filterServerList: [],
    connectionId,
  });
}

Deno.test("RouteTable.register() tells a slave its master's addresses", () => {
  const table = new RouteTable();
  assert.deepEqual(register(table, "m:1", 0, [topic("T")]), {});
  assert.deepEqual(register(table, "s:1", 1, [topic("T")]), { haServerAddr: "m:1-ha", masterAddr: "m:1" });
  assert.deepEqual([...table.routeOf("T")!.brokerDatas[0].brokerAddrs], [[0, "m:1"], [1, "s:1"]]);
});

Deno.test("RouteTable.register() keeps one id per address (a slave promoted to master)", () => {
  const table = new RouteTable();
  register(table, "x:1", 1, []);
  register(table, "x:1", 0, [topic("T")]);
  assert.deepEqual([...table.routeOf("T")!.brokerDatas[0].brokerAddrs], [[0, "x:1"]]);
});

Deno.test("RouteTable.register() rebuilds queue data only when the data version changes", () => {
  const table = new RouteTable();
  register(table, "m:1", 0, [topic("T", 4)], 1);
  register(table, "m:1", 0, [topic("T", 8)], 1); // same version: ignored, as RocketMQ does
  assert.equal(table.routeOf("T")!.queueDatas[0].writeQueueNums, 4);
  register(table, "m:1", 0, [topic("T", 8)], 2);
  assert.equal(table.routeOf("T")!.queueDatas[0].writeQueueNums, 8);
  // Slaves never change queue data.
  register(table, "s:1", 1, [topic("T", 2)], 3);
  assert.equal(table.routeOf("T")!.queueDatas[0].writeQueueNums, 8);
});

Deno.test("RouteTable.connectionClosed() drops the broker, its cluster entry and topics only it served", () => {
  const table = new RouteTable();
  register(table, "m:1", 0, [topic("A"), topic("Shared")], 1, 7);
  table.register({
    clusterName: "C",
    brokerAddr: "m:2",
    brokerName: "b2",
    brokerId: 0,
    haServerAddr: "",
    topicConfigWrapper: {
      dataVersion: { counter: 1, timestamp: 1 },
      topicConfigTable: new Map([["Shared", topic("Shared")]]),
    },
    filterServerList: [],
    connectionId: 8,
  });
  assert.deepEqual(table.connectionClosed(7), [{ brokerAddr: "m:1", reason: "connection closed" }]);
  assert.equal(table.routeOf("A"), undefined);
  assert.deepEqual(table.routeOf("Shared")!.queueDatas.map((q) => q.brokerName), ["b2"]);
  assert.deepEqual([...table.clusterInfo().clusterAddrTable.get("C")!], ["b2"]);
});

Deno.test("RouteTable.deleteTopic() can be limited to one cluster", () => {
  const table = new RouteTable();
  register(table, "m:1", 0, [topic("T")]);
  table.deleteTopic("T", "OtherCluster");
  assert.ok(table.routeOf("T"));
  table.deleteTopic("T", "C");
  assert.equal(table.routeOf("T"), undefined);
});
