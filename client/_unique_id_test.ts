import assert from "node:assert/strict";
import { UniqueIdGenerator } from "../protocol/message.ts";
import { FastUniqueIdGenerator } from "./_unique_id.ts";

Deno.test("FastUniqueIdGenerator produces the same ids as protocol's UniqueIdGenerator", () => {
  for (const ip of [new Uint8Array([192, 168, 1, 7]), new Uint8Array(16).fill(0xfe)]) {
    let now = new Date(2026, 0, 31, 23, 59, 59, 990).getTime();
    const options = { ip, pid: 70000, instanceHash: -123456789, now: () => now };
    const slow = new UniqueIdGenerator(options);
    const fast = new FastUniqueIdGenerator(options);
    for (let i = 0; i < 70000; i++) {
      now += i % 1000 === 0 ? 7 : 0; // crosses the month boundary and wraps the counter
      assert.equal(fast.next(), slow.next());
    }
  }
});
