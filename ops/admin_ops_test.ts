import assert from "node:assert/strict";
import { checkName, mapBounded, pageBounds, parseTimestamp, topicKind } from "./admin_ops.ts";
import { InvalidArgumentError } from "./errors.ts";

Deno.test("parseTimestamp() reads now, epoch ms, mqadmin's yyyy-MM-dd#HH:mm:ss:SSS and ISO 8601", () => {
  assert.equal(parseTimestamp("now", 42), 42);
  assert.equal(parseTimestamp("1700000000000"), 1700000000000);
  assert.equal(parseTimestamp("2024-03-05#06:07:08:009"), new Date(2024, 2, 5, 6, 7, 8, 9).getTime());
  assert.equal(parseTimestamp("2024-03-05T06:07:08Z"), Date.UTC(2024, 2, 5, 6, 7, 8));
  assert.throws(() => parseTimestamp("yesterday"), InvalidArgumentError);
});

Deno.test("mapBounded() keeps at most `limit` calls in flight, keeps order, and reports failures per item", async () => {
  let inflight = 0;
  let peak = 0;
  const results = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    inflight++;
    peak = Math.max(peak, inflight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    inflight--;
    if (n === 4) throw new Error("four");
    return n * 10;
  });
  assert.equal(peak, 3);
  assert.deepEqual(results.map((r) => r.ok ? r.value : r.error.message), [10, 20, 30, "four", 50, 60, 70]);
});

Deno.test("topicKind() tells retry, DLQ, system and normal topics apart", () => {
  const names = new Set(["DefaultCluster", "broker-a"]);
  assert.equal(topicKind("%RETRY%g", names), "retry");
  assert.equal(topicKind("%DLQ%g", names), "dlq");
  for (const t of ["TBW102", "SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRACE_TOPIC", "broker-a", "DefaultCluster_REPLY_TOPIC"]) {
    assert.equal(topicKind(t, names), "system", t);
  }
  assert.equal(topicKind("Orders", names), "normal");
  assert.equal(topicKind("Other_REPLY_TOPIC", names), "normal");
});

Deno.test("pageBounds() and checkName() refuse out-of-range pages and bad names", () => {
  assert.deepEqual(pageBounds(undefined, undefined), { page: 1, size: 20 });
  assert.throws(() => pageBounds(0, 10), /Invalid page 0/);
  assert.throws(() => pageBounds(1, 101), /expected 1-100/);
  assert.equal(checkName("Orders_1-%|", "topic"), "Orders_1-%|");
  assert.throws(() => checkName("a b", "topic"), /Invalid topic name "a b"/);
  assert.throws(() => checkName("x".repeat(128), "group"), /1-127 characters/);
  assert.throws(() => checkName(undefined, "group"), /Missing group name/);
});
