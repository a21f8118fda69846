import assert from "node:assert/strict";
import { encodeMessageRecord } from "../protocol/message.ts";
import { decodePulledMessages, type ReceivedMessage } from "./message.ts";
import { ProcessQueue } from "./process_queue.ts";

const queue = { topic: "t", brokerName: "b", queueId: 0 };

function messages(...offsets: number[]): ReceivedMessage[] {
  return offsets.flatMap((queueOffset) =>
    decodePulledMessages(
      encodeMessageRecord({
        queueId: 0,
        flag: 0,
        queueOffset,
        commitLogOffset: queueOffset * 100,
        sysFlag: 0,
        bornTimestamp: 0,
        bornHost: { ip: new Uint8Array(4), port: 1 },
        storeTimestamp: 0,
        storeHost: { ip: new Uint8Array(4), port: 2 },
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
        body: new Uint8Array(10),
        topic: "t",
        properties: "",
      }),
      { brokerName: "b" },
    )
  );
}

Deno.test("ProcessQueue.remove() returns the lowest offset still held", () => {
  const pq = new ProcessQueue(queue);
  const [m5, m6, m7] = messages(5, 6, 7);
  assert.equal(pq.put([m5, m6, m7]), 3);
  assert.equal(pq.count, 3);
  assert.equal(pq.bytes, 30);
  assert.equal(pq.remove([m6]), 5);
  assert.equal(pq.remove([m5]), 7);
  assert.equal(pq.remove([m7]), 8);
  assert.equal(pq.remove([m7]), -1);
  assert.equal(pq.bytes, 0);
});

Deno.test("ProcessQueue.put() ignores duplicates and re-sorts an out-of-order batch", () => {
  const pq = new ProcessQueue(queue);
  pq.put(messages(10, 11));
  assert.equal(pq.put(messages(11, 12)), 1);
  pq.put(messages(3));
  assert.equal(pq.minOffset, 3);
  assert.equal(pq.maxSpan, 9);
});

Deno.test("ProcessQueue take/commit/rollback consume in order for orderly mode", () => {
  const pq = new ProcessQueue(queue);
  pq.put(messages(0, 1, 2));
  const [first] = pq.take(1);
  assert.equal(first.queueOffset, 0);
  pq.rollback();
  assert.equal(pq.take(1)[0].queueOffset, 0);
  assert.equal(pq.commit(), 1);
  assert.deepEqual(pq.take(5).map((m) => m.queueOffset), [1, 2]);
  assert.equal(pq.untaken, 0);
  assert.equal(pq.commit(), 3);
  assert.equal(pq.count, 0);
  assert.equal(pq.commit(), -1);
});

Deno.test("ProcessQueue lock and pull expiry follow Java's limits", () => {
  const pq = new ProcessQueue(queue, 0);
  pq.lastLockTimestamp = 0;
  assert.equal(pq.isLockExpired(30_000), false);
  assert.equal(pq.isLockExpired(30_001), true);
  assert.equal(pq.isPullExpired(120_001), true);
  const info = pq.info(4);
  assert.equal(info.commitOffset, 4);
  assert.equal(info.cachedMsgCount, 0);
});
