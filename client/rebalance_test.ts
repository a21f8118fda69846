import assert from "node:assert/strict";
import type { MessageQueue } from "./message.ts";
import { allocateAveragely, allocateAveragelyByCircle, computeAssignment } from "./rebalance.ts";

function queues(count: number, topic = "t", brokerName = "b"): MessageQueue[] {
  return Array.from({ length: count }, (_, queueId) => ({ topic, brokerName, queueId }));
}

function ids(queueList: MessageQueue[]): number[] {
  return queueList.map((q) => q.queueId);
}

/** Java's AllocateMessageQueueAveragely, written independently from the spec (§13.4) for cross-checking. */
function javaAverage(q: number, c: number, index: number): number[] {
  const mod = q % c;
  const size = q <= c ? 1 : mod > 0 && index < mod ? Math.trunc(q / c) + 1 : Math.trunc(q / c);
  const start = mod > 0 && index < mod ? index * size : index * size + mod;
  const range = Math.min(size, q - start);
  const out: number[] = [];
  for (let i = 0; i < range; i++) out.push((start + i) % q);
  return out;
}

Deno.test("allocateAveragely() splits 8 queues over 3 clients as Java does", () => {
  const all = queues(8);
  const clients = ["c1", "c2", "c3"];
  assert.deepEqual(clients.map((c) => ids(allocateAveragely("g", c, all, clients))), [[0, 1, 2], [3, 4, 5], [6, 7]]);
});

Deno.test("allocateAveragely() gives one queue each when clients outnumber queues", () => {
  const all = queues(2);
  const clients = ["a", "b", "c"];
  assert.deepEqual(clients.map((c) => ids(allocateAveragely("g", c, all, clients))), [[0], [1], []]);
});

Deno.test("allocateAveragely() covers every queue exactly once for 1-20 queues and 1-8 clients", () => {
  for (let q = 1; q <= 20; q++) {
    for (let c = 1; c <= 8; c++) {
      const all = queues(q);
      const clients = Array.from({ length: c }, (_, i) => `client-${i}`);
      const seen: number[] = [];
      clients.forEach((client, index) => {
        const mine = ids(allocateAveragely("g", client, all, clients));
        assert.deepEqual(mine, javaAverage(q, c, index), `Q=${q} C=${c} index=${index}`);
        seen.push(...mine);
      });
      assert.deepEqual(seen.sort((a, b) => a - b), ids(all), `Q=${q} C=${c}`);
    }
  }
});

Deno.test("allocateAveragely() allocates nothing to a client the broker does not list", () => {
  assert.deepEqual(allocateAveragely("g", "stranger", queues(4), ["a", "b"]), []);
});

Deno.test("allocateAveragely() throws TypeError on empty inputs", () => {
  assert.throws(() => allocateAveragely("g", "", queues(4), ["a"]), TypeError);
  assert.throws(() => allocateAveragely("g", "a", [], ["a"]), TypeError);
  assert.throws(() => allocateAveragely("g", "a", queues(4), []), TypeError);
});

Deno.test("allocateAveragelyByCircle() deals queues round robin", () => {
  const all = queues(5);
  assert.deepEqual(ids(allocateAveragelyByCircle("g", "b", all, ["a", "b"])), [1, 3]);
});

Deno.test("computeAssignment() sorts queues and client ids before allocating", async () => {
  const unsorted = [
    { topic: "t", brokerName: "broker-b", queueId: 1 },
    { topic: "t", brokerName: "broker-a", queueId: 1 },
    { topic: "t", brokerName: "broker-b", queueId: 0 },
    { topic: "t", brokerName: "broker-a", queueId: 0 },
  ];
  const source = {
    subscribeQueues: () => Promise.resolve(unsorted),
    consumerIds: () => Promise.resolve(["10.0.0.2@x", "10.0.0.1@x"]),
  };
  const first = await computeAssignment(
    { topic: "t", group: "g", clientId: "10.0.0.1@x", model: "CLUSTERING", strategy: allocateAveragely },
    source,
  );
  assert.deepEqual(first, [
    { topic: "t", brokerName: "broker-a", queueId: 0 },
    { topic: "t", brokerName: "broker-a", queueId: 1 },
  ]);
});

Deno.test("computeAssignment() takes every queue when broadcasting and skips unknown routes", async () => {
  const source = {
    subscribeQueues: (topic: string) => Promise.resolve(topic === "t" ? queues(3) : undefined),
    consumerIds: () => Promise.reject(new Error("must not be asked")),
  };
  const request = { group: "g", clientId: "c", model: "BROADCASTING" as const, strategy: allocateAveragely };
  assert.equal((await computeAssignment({ ...request, topic: "t" }, source))?.length, 3);
  assert.equal(await computeAssignment({ ...request, topic: "missing" }, source), undefined);
});

Deno.test("computeAssignment() keeps the assignment when no broker lists the group", async () => {
  const source = { subscribeQueues: () => Promise.resolve(queues(3)), consumerIds: () => Promise.resolve([]) };
  const result = await computeAssignment(
    { topic: "t", group: "g", clientId: "c", model: "CLUSTERING", strategy: allocateAveragely },
    source,
  );
  assert.equal(result, undefined);
});

Deno.test("computeAssignment() rejects a strategy that invents queues", async () => {
  const source = { subscribeQueues: () => Promise.resolve(queues(2)), consumerIds: () => Promise.resolve(["c"]) };
  await assert.rejects(
    computeAssignment({
      topic: "t",
      group: "g",
      clientId: "c",
      model: "CLUSTERING",
      strategy: () => [{ topic: "t", brokerName: "b", queueId: 99 }],
    }, source),
  );
});
