import assert from "node:assert/strict";
import { selectByHash, selectRandom, shardingKeyHash } from "./queue_selector.ts";

const queues = Array.from({ length: 4 }, (_, queueId) => ({ topic: "t", brokerName: "b", queueId }));
const message = { topic: "t", body: "x" };

/** Java String.hashCode via BigInt, independent of the implementation under test. */
function javaHash(text: string): number {
  let h = 0n;
  for (const c of text) h = BigInt.asIntN(32, h * 31n + BigInt(c.charCodeAt(0)));
  return Number(h);
}

Deno.test("shardingKeyHash() of a string is Java String.hashCode", () => {
  for (const key of ["", "a", "order-42", "TagA", "polygenelubricants", "数据"]) {
    assert.equal(shardingKeyHash(key), javaHash(key), key);
  }
  assert.equal(shardingKeyHash("TagA"), 2598919);
  assert.equal(shardingKeyHash("polygenelubricants"), -2147483648);
});

Deno.test("shardingKeyHash() of an integer is Java Long.hashCode", () => {
  assert.equal(shardingKeyHash(7), 7);
  assert.equal(shardingKeyHash(-1), 0); // (int)(-1L ^ (-1L >>> 32)) == 0
  assert.equal(shardingKeyHash(2 ** 32), 1);
  assert.equal(
    shardingKeyHash(123456789012345n),
    Number(BigInt.asIntN(32, 123456789012345n ^ (123456789012345n >> 32n))),
  );
  assert.throws(() => shardingKeyHash(1.5), RangeError);
});

Deno.test("selectByHash() is stable and takes abs of a negative remainder like Java", () => {
  const key = "key-with-negative-hash";
  const h = javaHash(key);
  const expected = Math.abs(h % 4);
  assert.equal(selectByHash(queues, message, key).queueId, expected);
  assert.equal(selectByHash(queues, message, key), selectByHash(queues, message, key));
  // Integer.MIN_VALUE % 4 == 0 in Java.
  assert.equal(selectByHash(queues, message, "polygenelubricants").queueId, 0);
  assert.equal(selectByHash(queues, message, 6).queueId, 2);
});

Deno.test("selectByHash() and selectRandom() throw RangeError without queues", () => {
  assert.throws(() => selectByHash([], message, "k"), RangeError);
  assert.throws(() => selectRandom([]), RangeError);
});

Deno.test("selectRandom() returns one of the queues", () => {
  for (let i = 0; i < 20; i++) assert.ok(queues.includes(selectRandom(queues)));
});
