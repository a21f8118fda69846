/**
 * One suite, run on every store: the file store on an in-memory file system (inline flush), the
 * file store on disk with its flush Worker, and the memory store.
 */

import assert from "node:assert/strict";
import { decodeMessageRecord, MessageSysFlag } from "../../protocol/message.ts";
import { MemoryFs } from "./_fs.ts";
import { bodies, decoded, ManualClock, message, numbered, smallStoreOptions } from "./_test_util.ts";
import { FileMessageStore } from "./file_store.ts";
import { MemoryMessageStore } from "./memory_store.ts";
import { type DispatchEvent, GetMessageStatus, type MessageStore, PutMessageStatus, type StoreBatch } from "./store.ts";

interface Harness {
  store: MessageStore;
  clock: ManualClock;
  cleanup(): Promise<void>;
}

const factories: Array<[string, () => Promise<Harness>]> = [
  ["file store on MemoryFs", async () => {
    const clock = new ManualClock();
    const store = await FileMessageStore.open(smallStoreOptions(new MemoryFs(), { clock }));
    return { store, clock, cleanup: () => store.close() };
  }],
  ["file store on disk with flush worker", async () => {
    const clock = new ManualClock();
    const dir = await Deno.makeTempDir({ prefix: "denomq-store-" });
    const store = await FileMessageStore.open({
      ...smallStoreOptions(undefined as never, { clock }),
      fs: undefined,
      storePathRootDir: dir,
      flushInWorker: true,
    });
    return {
      store,
      clock,
      cleanup: async () => {
        await store.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  }],
  ["memory store", () => {
    const clock = new ManualClock();
    const store = new MemoryMessageStore({ clock, maxMessageSize: 2048 });
    return Promise.resolve({ store, clock, cleanup: () => store.close() });
  }],
];

const WIDE = { beginMs: 0, endMs: 8.64e15 };
const ALL = { maxCount: 1000, maxBytes: 1 << 24 };

for (const [kind, create] of factories) {
  const test = (name: string, body: (h: Harness) => Promise<void>) =>
    Deno.test(`${kind}: ${name}`, async () => {
      const h = await create();
      try {
        await body(h);
      } finally {
        await h.cleanup();
      }
    });

  test("putMessage() assigns queue offsets per queue and writes them into the record", async ({ store, clock }) => {
    const results = [];
    for (let i = 0; i < 10; i++) {
      clock.ms += 10;
      results.push(await store.putMessage(numbered(i, { queueId: i % 2 })));
    }
    assert.deepEqual(results.map((r) => r.status), Array(10).fill(PutMessageStatus.PUT_OK));
    assert.deepEqual(results.map((r) => r.queueOffset), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    for (let i = 1; i < 10; i++) assert.ok(results[i].commitLogOffset > results[i - 1].commitLogOffset);
    const record = await store.readRecord(results[3].commitLogOffset);
    assert.ok(record);
    const d = decodeMessageRecord(record, 0, { verifyCrc: true });
    assert.equal(d.queueOffset, 1);
    assert.equal(d.queueId, 1);
    assert.equal(d.commitLogOffset, results[3].commitLogOffset);
    assert.equal(d.storeTimestamp, results[3].storeTimestamp);
    assert.equal(d.size, results[3].size);
    assert.equal(new TextDecoder().decode(d.body), "message-3");
    assert.equal(results[3].messageId.length, 32);
    assert.equal(store.maxQueueOffset("TopicTest", 0), 5);
    assert.equal(store.minQueueOffset("TopicTest", 0), 0);
    assert.equal(store.maxQueueOffset("Nope", 0), 0);
    assert.deepEqual(store.queues(), new Map([["TopicTest", [0, 1]]]));
    assert.equal(store.commitLogMaxOffset(), results[9].commitLogOffset + results[9].size);
  });

  test("getMessages() returns raw records and the §7.5 statuses", async ({ store }) => {
    for (let i = 0; i < 5; i++) await store.putMessage(numbered(i));
    let r = await store.getMessages("TopicTest", 0, 1, { maxCount: 2, maxBytes: 1 << 20 });
    assert.equal(r.status, GetMessageStatus.FOUND);
    assert.deepEqual(bodies(r.records), ["message-1", "message-2"]);
    assert.equal(r.messageCount, 2);
    assert.equal(r.nextBeginOffset, 3);
    assert.equal(r.minOffset, 0);
    assert.equal(r.maxOffset, 5);
    r = await store.getMessages("TopicTest", 0, 5, ALL);
    assert.equal(r.status, GetMessageStatus.OFFSET_OVERFLOW_ONE);
    assert.equal(r.nextBeginOffset, 5);
    r = await store.getMessages("TopicTest", 0, 9, ALL);
    assert.equal(r.status, GetMessageStatus.OFFSET_OVERFLOW_BADLY);
    assert.equal(r.nextBeginOffset, 5, "as RocketMQ 4.9.7: to the max, even when the min is 0");
    r = await store.getMessages("TopicTest", 3, 0, ALL);
    assert.equal(r.status, GetMessageStatus.NO_MATCHED_LOGIC_QUEUE);
    assert.equal(r.records.length, 0);
  });

  test("getMessages() honours maxCount and maxBytes but returns at least one message", async ({ store }) => {
    for (let i = 0; i < 6; i++) await store.putMessage(numbered(i, { body: new Uint8Array(300).fill(65 + i) }));
    let r = await store.getMessages("TopicTest", 0, 0, { maxCount: 100, maxBytes: 1000 });
    assert.equal(r.messageCount, 2, "two ~430-byte records fit in 1000 bytes");
    assert.equal(r.nextBeginOffset, 2);
    r = await store.getMessages("TopicTest", 0, 0, { maxCount: 100, maxBytes: 1 });
    assert.equal(r.messageCount, 1);
    r = await store.getMessages("TopicTest", 0, 0, { maxCount: 4, maxBytes: 1 << 20 });
    assert.equal(r.messageCount, 4);
    assert.equal(decoded(r.records).length, 4);
  });

  test("getMessages() filter skips units and counts them in nextBeginOffset", async ({ store }) => {
    for (let i = 0; i < 9; i++) await store.putMessage(numbered(i, { tagsCode: i % 3 }));
    let r = await store.getMessages("TopicTest", 0, 0, { ...ALL, filter: (t) => t === 2 });
    assert.equal(r.status, GetMessageStatus.FOUND);
    assert.deepEqual(bodies(r.records), ["message-2", "message-5", "message-8"]);
    assert.equal(r.nextBeginOffset, 9);
    r = await store.getMessages("TopicTest", 0, 0, { ...ALL, filter: () => false });
    assert.equal(r.status, GetMessageStatus.NO_MATCHED_MESSAGE);
    assert.equal(r.nextBeginOffset, 9);
    r = await store.getMessages("TopicTest", 0, 0, { ...ALL, filter: (t) => t === 1, unitsScannedMax: 4 });
    assert.deepEqual(bodies(r.records), ["message-1"]);
    assert.equal(r.nextBeginOffset, 4);
    r = await store.getMessages("TopicTest", 0, 0, { maxCount: 1, maxBytes: 1 << 20, filter: (t) => t === 1 });
    assert.equal(r.nextBeginOffset, 2, "stops at the unit after the batch is full");
  });

  test("putMessages() stores a batch contiguously with consecutive queue offsets", async ({ store }) => {
    await store.putMessage(numbered(100));
    const batch: StoreBatch = {
      topic: "TopicTest",
      queueId: 0,
      sysFlag: 0,
      bornTimestamp: 1,
      bornHost: message().bornHost,
      storeHost: message().storeHost,
      reconsumeTimes: 0,
      entries: [0, 1, 2].map((i) => ({
        flag: i,
        body: new TextEncoder().encode(`b${i}`),
        properties: `UNIQ_KEY\u0001BATCH${i}`,
        tagsCode: i,
        keys: [`BATCH${i}`],
      })),
    };
    const r = await store.putMessages(batch);
    assert.equal(r.status, PutMessageStatus.PUT_OK);
    assert.equal(r.queueOffset, 1);
    assert.equal(r.messageIds.length, 3);
    const got = await store.getMessages("TopicTest", 0, 1, ALL);
    const records = decoded(got.records);
    assert.deepEqual(records.map((d) => d.queueOffset), [1, 2, 3]);
    assert.deepEqual(records.map((d) => d.flag), [0, 1, 2]);
    assert.equal(records[0].commitLogOffset, r.commitLogOffset);
    // Contiguous: 91 fixed bytes + body "b0" + topic "TopicTest" + properties "UNIQ_KEY\u0001BATCH0".
    assert.equal(records[1].commitLogOffset, records[0].commitLogOffset + 91 + 2 + 9 + 15);
    assert.equal(got.records.length, r.size);
    const q = await store.queryByKey("TopicTest", "BATCH2", { maxCount: 5, ...WIDE });
    assert.deepEqual(q.records.map((x) => bodies(x)[0]), ["b2"]);
    const empty = await store.putMessages({ ...batch, entries: [] });
    assert.equal(empty.status, PutMessageStatus.MESSAGE_ILLEGAL);
    const tooBig = await store.putMessages({
      ...batch,
      entries: Array(10).fill({ flag: 0, body: new Uint8Array(500), properties: "", tagsCode: 0, keys: [] }),
    });
    assert.equal(tooBig.status, PutMessageStatus.MESSAGE_ILLEGAL);
    assert.match(tooBig.reason, /limit is 2048 bytes/);
  });

  test("prepared and rollback records get no consume-queue unit (§11.2)", async ({ store }) => {
    await store.putMessage(numbered(1));
    const prepared = await store.putMessage(numbered(2, { sysFlag: MessageSysFlag.TRANSACTION_PREPARED_TYPE }));
    const rollback = await store.putMessage(numbered(3, { sysFlag: MessageSysFlag.TRANSACTION_ROLLBACK_TYPE }));
    const commit = await store.putMessage(numbered(4, { sysFlag: MessageSysFlag.TRANSACTION_COMMIT_TYPE }));
    assert.equal(prepared.status, PutMessageStatus.PUT_OK);
    assert.equal(prepared.queueOffset, 0);
    assert.equal(rollback.queueOffset, 0);
    assert.equal(commit.queueOffset, 1);
    assert.equal(store.maxQueueOffset("TopicTest", 0), 2);
    const got = await store.getMessages("TopicTest", 0, 0, ALL);
    assert.deepEqual(bodies(got.records), ["message-1", "message-4"]);
    const raw = await store.readRecord(prepared.commitLogOffset);
    assert.equal(new TextDecoder().decode(decodeMessageRecord(raw!).body), "message-2");
    assert.equal((await store.queryByKey("TopicTest", "k2", { maxCount: 5, ...WIDE })).records.length, 1);
    assert.equal((await store.queryByKey("TopicTest", "k3", { maxCount: 5, ...WIDE })).records.length, 0);
  });

  test("putMessage() rejects illegal messages with a reason stating value and limit", async ({ store }) => {
    let r = await store.putMessage(message({ body: new Uint8Array(4096) }));
    assert.equal(r.status, PutMessageStatus.MESSAGE_ILLEGAL);
    assert.match(r.reason, /record is \d+ bytes \(body 4096\), limit is 2048 bytes/);
    assert.equal(r.commitLogOffset, -1);
    r = await store.putMessage(message({ properties: "x".repeat(40000) }));
    assert.equal(r.status, PutMessageStatus.PROPERTIES_SIZE_EXCEEDED);
    r = await store.putMessage(message({ topic: "../../etc" }));
    assert.equal(r.status, PutMessageStatus.MESSAGE_ILLEGAL);
    assert.equal(store.commitLogMaxOffset(), 0);
  });

  test("getQueueUnits() lists units with offsets, sizes and tags codes", async ({ store }) => {
    const puts = [];
    for (let i = 0; i < 4; i++) puts.push(await store.putMessage(numbered(i, { tagsCode: 1000 + i, queueId: 3 })));
    const units = store.getQueueUnits("TopicTest", 3, 1, 2);
    assert.deepEqual(units, [
      { queueOffset: 1, commitLogOffset: puts[1].commitLogOffset, size: puts[1].size, tagsCode: 1001 },
      { queueOffset: 2, commitLogOffset: puts[2].commitLogOffset, size: puts[2].size, tagsCode: 1002 },
    ]);
    assert.deepEqual(store.getQueueUnits("TopicTest", 9, 0, 5), []);
    assert.equal(store.getQueueUnits("TopicTest", 3, 0, 100).length, 4);
  });

  test("searchQueueOffsetByTimestamp() finds the exact match, else the nearer neighbour", async ({ store, clock }) => {
    assert.equal(await store.searchQueueOffsetByTimestamp("TopicTest", 0, 5), 0);
    const t0 = clock.ms;
    for (let i = 0; i < 5; i++) {
      clock.ms = t0 + i * 1000;
      await store.putMessage(numbered(i));
    }
    assert.equal(await store.searchQueueOffsetByTimestamp("TopicTest", 0, t0 + 2000), 2);
    assert.equal(await store.searchQueueOffsetByTimestamp("TopicTest", 0, t0 + 2400), 2);
    assert.equal(await store.searchQueueOffsetByTimestamp("TopicTest", 0, t0 + 2600), 3);
    assert.equal(await store.searchQueueOffsetByTimestamp("TopicTest", 0, t0 - 50_000), 0);
    assert.equal(await store.searchQueueOffsetByTimestamp("TopicTest", 0, t0 + 50_000), 4);
    assert.equal(await store.earliestMessageStoreTime(), t0);
    assert.deepEqual(await store.queueStoreTimeBounds("TopicTest", 0), { earliestMs: t0, latestMs: t0 + 4000 });
    assert.deepEqual(await store.queueStoreTimeBounds("TopicTest", 1), { earliestMs: -1, latestMs: -1 });
  });

  test("queryByKey() finds records by KEYS token and UNIQ_KEY, per topic, up to maxCount", async ({ store }) => {
    for (let i = 0; i < 6; i++) await store.putMessage(numbered(i));
    await store.putMessage(numbered(99, { topic: "Other" }));
    const byKey = await store.queryByKey("TopicTest", "k4", { maxCount: 10, ...WIDE });
    assert.deepEqual(byKey.records.map((r) => bodies(r)[0]), ["message-4"]);
    const byUniq = await store.queryByKey("TopicTest", "UNIQ000000000005", { maxCount: 10, ...WIDE });
    assert.deepEqual(byUniq.records.map((r) => bodies(r)[0]), ["message-5"]);
    const shared = await store.queryByKey("TopicTest", "shared", { maxCount: 4, ...WIDE });
    assert.equal(shared.records.length, 4);
    assert.deepEqual(
      (await store.queryByKey("Other", "shared", { maxCount: 10, ...WIDE })).records.map((r) => bodies(r)[0]),
      ["message-99"],
    );
    assert.equal((await store.queryByKey("TopicTest", "nope", { maxCount: 10, ...WIDE })).records.length, 0);
    assert.ok(shared.indexLastUpdatePhyoffset > 0);
  });

  test("deleteTopic() drops the queues; the topic starts again at offset 0", async ({ store }) => {
    for (let i = 0; i < 3; i++) await store.putMessage(numbered(i));
    await store.putMessage(numbered(7, { topic: "Keep" }));
    await store.deleteTopic("TopicTest");
    const r = await store.getMessages("TopicTest", 0, 0, ALL);
    assert.equal(r.status, GetMessageStatus.NO_MATCHED_LOGIC_QUEUE);
    assert.equal(store.maxQueueOffset("TopicTest", 0), 0);
    assert.equal((await store.putMessage(numbered(5))).queueOffset, 0);
    assert.equal(store.maxQueueOffset("Keep", 0), 1);
  });

  test("onDispatch() tells listeners about each unit until unsubscribed", async ({ store, clock }) => {
    const events: DispatchEvent[] = [];
    const unsubscribe = store.onDispatch((e) => events.push(e));
    const thrower = store.onDispatch(() => {
      throw new Error("listener bug");
    });
    await store.putMessage(numbered(0, { tagsCode: 42, queueId: 2 }));
    await store.putMessage(numbered(1, { sysFlag: MessageSysFlag.TRANSACTION_PREPARED_TYPE }));
    unsubscribe();
    thrower();
    await store.putMessage(numbered(2));
    assert.deepEqual(events, [{
      topic: "TopicTest",
      queueId: 2,
      queueOffset: 0,
      tagsCode: 42,
      storeTimestamp: clock.ms,
    }]);
  });

  test("readRecord() answers undefined off record boundaries and past the end", async ({ store }) => {
    const r = await store.putMessage(numbered(0));
    assert.ok(await store.readRecord(r.commitLogOffset));
    assert.equal(await store.readRecord(r.commitLogOffset + 1), undefined);
    assert.equal(await store.readRecord(r.commitLogOffset + r.size), undefined);
    assert.equal(await store.readRecord(-1), undefined);
    assert.equal(await store.readRecord(2 ** 60), undefined);
  });

  test("a closed store answers SERVICE_NOT_AVAILABLE", async ({ store }) => {
    await store.close();
    const r = await store.putMessage(numbered(0));
    assert.equal(r.status, PutMessageStatus.SERVICE_NOT_AVAILABLE);
  });

  test("runtimeInfo() counts puts and offsets", async ({ store }) => {
    await store.putMessage(numbered(0));
    const info = store.runtimeInfo();
    assert.equal(info.putMessageCount, 1);
    assert.equal(info.commitLogMaxOffset, store.commitLogMaxOffset());
    assert.equal(info.fenced, false);
    assert.equal(info.consumeQueueCount, 1);
  });
}
