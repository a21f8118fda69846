import assert from "node:assert/strict";
import { join } from "node:path";
import {
  formatOffsetFile,
  LocalFileOffsetStore,
  OFFSET_ERROR,
  OFFSET_NONE,
  parseOffsetFile,
  RemoteOffsetStore,
} from "./offset_store.ts";
import type { MessageQueue } from "./message.ts";

const q0: MessageQueue = { topic: "t", brokerName: "b", queueId: 0 };
const q1: MessageQueue = { topic: "t", brokerName: "b", queueId: 1 };

function fakeBroker(initial: Record<number, number> = {}) {
  const committed = new Map(Object.entries(initial).map(([k, v]) => [Number(k), v]));
  const calls: Array<{ queueId: number; queueOffset: number; oneway: boolean }> = [];
  let failQuery = false;
  return {
    committed,
    calls,
    failNextQuery() {
      failQuery = true;
    },
    broker: {
      query(queue: MessageQueue) {
        if (failQuery) {
          failQuery = false;
          return Promise.reject(new Error("broker down"));
        }
        return Promise.resolve(committed.get(queue.queueId));
      },
      commit(queue: MessageQueue, queueOffset: number, oneway: boolean) {
        calls.push({ queueId: queue.queueId, queueOffset, oneway });
        committed.set(queue.queueId, queueOffset);
        return Promise.resolve();
      },
    },
  };
}

Deno.test("RemoteOffsetStore.read() tells missing (-1) from unreadable (-2)", async () => {
  const fake = fakeBroker({ 1: 40 });
  const store = new RemoteOffsetStore(fake.broker);
  assert.equal(await store.read(q0, "store"), OFFSET_NONE);
  assert.equal(await store.read(q1, "store"), 40);
  assert.equal(await store.read(q1, "memory"), 40);
  fake.failNextQuery();
  assert.equal(await store.read(q0, "store"), OFFSET_ERROR);
  assert.equal(await store.read(q0, "memory"), OFFSET_NONE);
});

Deno.test("RemoteOffsetStore.update() with increaseOnly never moves an offset back", async () => {
  const store = new RemoteOffsetStore(fakeBroker().broker);
  store.update(q0, 10, true);
  store.update(q0, 5, true);
  assert.equal(await store.read(q0, "memory"), 10);
  store.update(q0, 5, false);
  assert.equal(await store.read(q0, "memoryThenStore"), 5);
  store.update(q0, -3, false);
  assert.equal(await store.read(q0, "memory"), 5);
});

Deno.test("RemoteOffsetStore.persistAll() commits assigned queues and forgets the rest", async () => {
  const fake = fakeBroker();
  const store = new RemoteOffsetStore(fake.broker);
  store.update(q0, 3, false);
  store.update(q1, 9, false);
  await store.persistAll([q0]);
  assert.deepEqual(fake.calls, [{ queueId: 0, queueOffset: 3, oneway: true }]);
  assert.deepEqual(store.snapshot(), [[q0, 3]]);
  await store.persistAll([q0], true);
  assert.equal(fake.calls[1].oneway, false);
});

Deno.test("offset files use Java's OffsetSerializeWrapper layout with object keys", () => {
  const text = formatOffsetFile([[q0, 12]]);
  assert.equal(text, '{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:12}}');
  assert.deepEqual(parseOffsetFile(text), [[q0, 12]]);
});

Deno.test("LocalFileOffsetStore persists, reloads, and falls back to the backup file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const options = { dir, clientId: "127.0.0.1@DEFAULT", group: "g" };
    const store = new LocalFileOffsetStore(options);
    assert.equal(store.path, join(dir, "127.0.0.1@DEFAULT", "g", "offsets.json"));
    await store.load();
    assert.equal(await store.read(q0, "store"), OFFSET_NONE);
    store.update(q0, 7, false);
    await store.persistAll([q0]);
    store.update(q0, 8, false);
    store.update(q1, 2, false);
    await store.persistAll([q0, q1]);

    const reloaded = new LocalFileOffsetStore(options);
    await reloaded.load();
    assert.equal(await reloaded.read(q0, "memory"), 8);
    assert.equal(await reloaded.read(q1, "store"), 2);

    await Deno.writeTextFile(store.path, "{ torn");
    const fromBackup = new LocalFileOffsetStore(options);
    await fromBackup.load();
    assert.equal(await fromBackup.read(q0, "memory"), 7);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
