import assert from "node:assert/strict";
import { createResponse } from "../protocol/command.ts";
import type { TopicRouteData } from "../protocol/bodies.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { silentLogger } from "./_log.ts";
import { ok, routeBody, startFakeServer } from "./_testing.ts";
import { RemotingClient } from "./remoting_client.ts";
import { publishInfoFromRoute, RouteCache, routeFromDefaultTopic, subscribeQueuesFromRoute } from "./route_cache.ts";

function route(overrides: Partial<TopicRouteData> = {}): TopicRouteData {
  return {
    queueDatas: [
      { brokerName: "broker-b", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
      { brokerName: "broker-a", readQueueNums: 3, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
      { brokerName: "broker-c", readQueueNums: 1, writeQueueNums: 1, perm: 4, topicSysFlag: 0 },
    ],
    brokerDatas: [
      { cluster: "c", brokerName: "broker-a", brokerAddrs: new Map([[0, "a:1"], [1, "a-slave:1"]]) },
      { cluster: "c", brokerName: "broker-b", brokerAddrs: new Map([[1, "b-slave:1"]]) },
      { cluster: "c", brokerName: "broker-c", brokerAddrs: new Map([[0, "c:1"]]) },
    ],
    filterServerTable: new Map(),
    ...overrides,
  };
}

Deno.test("publishInfoFromRoute() lists writable queues of brokers with a master, by broker name", () => {
  const info = publishInfoFromRoute("t", route());
  // broker-b has no master, broker-c is read-only.
  assert.deepEqual(info.queues, [{ topic: "t", brokerName: "broker-a", queueId: 0 }]);
  assert.equal(info.writeQueueNums.get("broker-a"), 1);
  assert.equal(info.orderTopic, false);
});

Deno.test("publishInfoFromRoute() follows orderTopicConf", () => {
  const info = publishInfoFromRoute("t", route({ orderTopicConf: "broker-b:2;broker-a:1" }));
  assert.equal(info.orderTopic, true);
  assert.deepEqual(info.queues.map((q) => `${q.brokerName}/${q.queueId}`), ["broker-b/0", "broker-b/1", "broker-a/0"]);
});

Deno.test("subscribeQueuesFromRoute() lists readable queues sorted", () => {
  const queues = subscribeQueuesFromRoute("t", route());
  assert.deepEqual(queues.map((q) => `${q.brokerName}/${q.queueId}`), [
    "broker-a/0",
    "broker-a/1",
    "broker-a/2",
    "broker-b/0",
    "broker-b/1",
    "broker-c/0",
  ]);
});

Deno.test("routeFromDefaultTopic() caps queue counts at defaultTopicQueueNums", () => {
  const capped = routeFromDefaultTopic(route(), 2);
  assert.deepEqual(capped.queueDatas.map((q) => [q.readQueueNums, q.writeQueueNums]), [[2, 2], [2, 2], [1, 1]]);
});

Deno.test("RouteCache fails over to the next NameServer and caches the route", async () => {
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadAddr = `127.0.0.1:${(dead.addr as Deno.NetAddr).port}`;
  dead.close();
  const live = startFakeServer((request) =>
    request.extFields.topic === "t"
      ? ok(request, {}, routeBody({ "broker-a": "127.0.0.1:1" }))
      : createResponse(request, 17, { remark: "No topic route info" })
  );
  const remoting = new RemotingClient({ reconnectBackoffMs: 10, reconnectBackoffMaxMs: 10 });
  const changes: string[] = [];
  const cache = new RouteCache({
    nameServers: [deadAddr, live.addr],
    remoting,
    timeoutMs: 1000,
    logger: silentLogger,
    onChange: (topic) => changes.push(topic),
  });
  try {
    for (let i = 0; i < 3; i++) assert.ok(await cache.update("t"));
    assert.deepEqual(changes, ["t"], "an unchanged route is not reported again");
    assert.equal(cache.masterAddr("broker-a"), "127.0.0.1:1");
    assert.equal(await cache.update("missing"), undefined);
    assert.equal(live.requests.filter((r) => r.code === RequestCode.GET_ROUTEINFO_BY_TOPIC).length, 4);
  } finally {
    await remoting.close();
    await live.close();
  }
});

Deno.test("RouteCache borrows the template route for an unknown topic", async () => {
  const ns = startFakeServer((request) =>
    request.extFields.topic === "TBW102"
      ? ok(request, {}, routeBody({ "broker-a": "127.0.0.1:1" }, 8))
      : createResponse(request, 17)
  );
  const remoting = new RemotingClient();
  const cache = new RouteCache({ nameServers: [ns.addr], remoting, timeoutMs: 1000, logger: silentLogger });
  try {
    await cache.update("fresh", { topic: "TBW102", queueNums: 4 });
    const info = cache.publishInfo("fresh");
    assert.equal(info?.queues.length, 4);
    assert.equal(info?.fromDefaultTopic, true);
    assert.equal(cache.subscribeQueues("fresh"), undefined, "a borrowed route is not consumed from");
  } finally {
    await remoting.close();
    await ns.close();
  }
});
