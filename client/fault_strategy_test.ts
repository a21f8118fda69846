import assert from "node:assert/strict";
import { FaultStrategy, notAvailableDurationMs } from "./fault_strategy.ts";
import { publishInfoFromRoute } from "./route_cache.ts";

function info(brokers: string[], queueNums = 2) {
  return publishInfoFromRoute("t", {
    queueDatas: brokers.map((brokerName) => ({
      brokerName,
      readQueueNums: queueNums,
      writeQueueNums: queueNums,
      perm: 6,
      topicSysFlag: 0,
    })),
    brokerDatas: brokers.map((brokerName) => ({
      cluster: "c",
      brokerName,
      brokerAddrs: new Map([[0, `${brokerName}:10911`]]),
    })),
    filterServerTable: new Map(),
  });
}

Deno.test("notAvailableDurationMs() follows Java's latency table", () => {
  assert.equal(notAvailableDurationMs(10), 0);
  assert.equal(notAvailableDurationMs(100), 0);
  assert.equal(notAvailableDurationMs(550), 30000);
  assert.equal(notAvailableDurationMs(1000), 60000);
  assert.equal(notAvailableDurationMs(2999), 120000);
  assert.equal(notAvailableDurationMs(3000), 180000);
  assert.equal(notAvailableDurationMs(30000), 600000);
});

Deno.test("FaultStrategy.select() avoids a broker that just failed", () => {
  let now = 1000;
  const strategy = new FaultStrategy({ enabled: true, now: () => now });
  const publish = info(["a", "b"]);
  strategy.record("a", 5, true);
  for (let i = 0; i < 10; i++) assert.equal(strategy.select(publish)?.brokerName, "b");
  now += 600_000;
  const seen = new Set<string>();
  for (let i = 0; i < 10; i++) seen.add(strategy.select(publish)!.brokerName);
  assert.deepEqual([...seen].sort(), ["a", "b"]);
});

Deno.test("FaultStrategy.select() keeps fast brokers in rotation", () => {
  const strategy = new FaultStrategy({ enabled: true, now: () => 0 });
  const publish = info(["a", "b"]);
  strategy.record("a", 20, false);
  strategy.record("b", 40, false);
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) seen.add(strategy.select(publish)!.brokerName);
  assert.deepEqual([...seen].sort(), ["a", "b"]);
});

Deno.test("FaultStrategy.select() still picks a queue when every broker is benched", () => {
  const strategy = new FaultStrategy({ enabled: true, now: () => 0 });
  const publish = info(["a"], 4);
  strategy.record("a", 0, true);
  const queue = strategy.select(publish);
  assert.equal(queue?.brokerName, "a");
  assert.ok(queue!.queueId >= 0 && queue!.queueId < 4);
});

Deno.test("FaultStrategy.select() without fault tracking avoids the last broker on retry", () => {
  const strategy = new FaultStrategy({ enabled: false });
  const publish = info(["a", "b"]);
  for (let i = 0; i < 10; i++) assert.equal(strategy.select(publish, "a")?.brokerName, "b");
  strategy.record("a", 0, true); // ignored when disabled
  assert.ok(strategy.isAvailable("a"));
});

Deno.test("FaultStrategy.select() round-robins over all queues", () => {
  const strategy = new FaultStrategy({ enabled: true, now: () => 0 });
  const publish = info(["a", "b"], 2);
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const q = strategy.select(publish)!;
    seen.add(`${q.brokerName}:${q.queueId}`);
  }
  assert.equal(seen.size, 4);
  assert.equal(new FaultStrategy().select(info([])), undefined);
});
