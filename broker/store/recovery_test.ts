/**
 * Recovery under faults: simulated power cuts (unsynced sectors kept or lost at random), files cut
 * at a random byte, random bit flips, and lost consume queues, index and checkpoint. Seeded;
 * replay a failure with DENOMQ_SEED.
 */

import assert from "node:assert/strict";
import { decodeMessageRecords } from "../../protocol/message.ts";
import { FaultyFs, MemoryFs } from "./_fs.ts";
import { numbered, Rng, smallStoreOptions, withSeed } from "./_test_util.ts";
import { FileMessageStore } from "./file_store.ts";
import { GetMessageStatus, type MessageStoreOptions, type PutMessageResult, PutMessageStatus } from "./store.ts";

const QUEUES = 3;

interface Acked {
  n: number;
  queueId: number;
  queueOffset: number;
}

/** Every message of every queue as (queueOffset, n), reading from each queue's minimum. */
async function contents(store: FileMessageStore): Promise<Map<number, Array<[number, number]>>> {
  const out = new Map<number, Array<[number, number]>>();
  for (let queueId = 0; queueId < QUEUES; queueId++) {
    const list: Array<[number, number]> = [];
    let offset = store.minQueueOffset("TopicTest", queueId);
    for (;;) {
      const r = await store.getMessages("TopicTest", queueId, offset, { maxCount: 500, maxBytes: 1 << 24 });
      if (r.status !== GetMessageStatus.FOUND) break;
      for (const record of decodeMessageRecords(r.records, { verifyCrc: true })) {
        list.push([record.queueOffset, Number(new TextDecoder().decode(record.body).split("-")[1])]);
      }
      offset = r.nextBeginOffset;
    }
    out.set(queueId, list);
  }
  return out;
}

/**
 * Acked records are all there at their offsets, each queue is gap-free, and each producer's
 * records are in the order it put them (`producerOf` maps a message number to its producer;
 * concurrent producers have no order between them: one may wait for buffer room while another
 * gets in).
 */
async function verify(store: FileMessageStore, acked: Acked[], producerOf = new Map<number, number>()): Promise<void> {
  const all = await contents(store);
  for (const [queueId, list] of all) {
    const last = new Map<number, number>();
    for (let i = 0; i < list.length; i++) {
      if (i > 0) assert.equal(list[i][0], list[i - 1][0] + 1, `queue ${queueId} has no gaps`);
      const producer = producerOf.get(list[i][1]) ?? 0;
      assert.ok(list[i][1] > (last.get(producer) ?? -1), `queue ${queueId} is in put order for producer ${producer}`);
      last.set(producer, list[i][1]);
    }
    if (list.length > 0) assert.equal(store.maxQueueOffset("TopicTest", queueId), list.at(-1)![0] + 1);
  }
  for (const a of acked) {
    const list = all.get(a.queueId)!;
    const found = list.find(([q]) => q === a.queueOffset);
    assert.ok(found, `acknowledged message-${a.n} at ${a.queueId}/${a.queueOffset} is missing`);
    assert.equal(found[1], a.n, `queue ${a.queueId} offset ${a.queueOffset} holds message-${found[1]}, not ${a.n}`);
  }
  const report = store.verifyCommitLog();
  assert.deepEqual(report.corrupt, []);
}

function options(fs: MemoryFs, rng: Rng): MessageStoreOptions {
  return smallStoreOptions(fs, {
    mappedFileSizeCommitLog: [4096, 8192, 32768][rng.int(3)],
    maxMessageSize: 1024,
    writeBufferBytesMax: 16 * 1024,
    mappedFileSizeConsumeQueue: [8, 32, 1000][rng.int(3)],
    maxIndexNum: [20, 500][rng.int(2)],
    maxHashSlotNum: 31,
  });
}

for (const mode of ["SYNC_FLUSH", "ASYNC_FLUSH"] as const) {
  const promise = mode === "SYNC_FLUSH"
    ? "never lose an acknowledged record"
    : "never lose a record an fdatasync covered";
  Deno.test(`power cuts at random points ${promise} (${mode})`, async () => {
    await withSeed(`power cut ${mode}`, async (rng) => {
      const stops = new Map<string, number>();
      for (let run = 0; run < 12; run++) {
        const memory = new MemoryFs();
        const fs = new FaultyFs(memory);
        const opts = { ...options(memory, rng), fs, flushDiskType: mode, flushIntervalCommitLog: 1 + rng.int(5) };
        // Records that must survive: acknowledged after their sync (SYNC_FLUSH), or simply
        // below the synced offset at the moment the power went (ASYNC_FLUSH).
        const durable: Acked[] = [];
        const producerOf = new Map<number, number>();
        let n = 0;
        for (let cycle = 0; cycle < 4; cycle++) {
          const store = await FileMessageStore.open(opts);
          if (cycle > 0) {
            const stop = store.recovery.dropped.length > 0 ? "dropped" : store.recovery.stopReason;
            stops.set(stop, (stops.get(stop) ?? 0) + 1);
          }
          await verify(store, durable, producerOf);
          const target = 20 + rng.int(150);
          const appended: Array<Acked & { end: number }> = [];
          let syncedAtCut = -1;
          const cut = () => {
            syncedAtCut = store.commitLog.syncedOffset;
            memory.crash(() => rng.next());
          };
          let powerCut = false;
          // Half the cycles lose power inside a commit-log fdatasync: its writes are in the page
          // cache only, so each of their sectors survives or not.
          if (rng.next() < 0.5) {
            fs.setRules([{ op: "sync", nth: 1 + rng.int(10), pathIncludes: "commitlog" }]);
            fs.onFault = () => {
              powerCut = true;
              cut();
            };
          }
          let started = 0;
          let halted = false;
          const producer = async (id: number) => {
            while (!halted && started < target) {
              started++;
              const i = n++;
              producerOf.set(i, cycle * 100 + id);
              const wait = rng.next() < 0.9;
              const r = await store.putMessage(numbered(i, {
                queueId: i % QUEUES,
                body: new TextEncoder().encode(`message-${i}-${"x".repeat(rng.int(700))}`),
                waitForFlush: wait,
              }));
              const record = { n: i, queueId: i % QUEUES, queueOffset: r.queueOffset };
              if (r.status === PutMessageStatus.PUT_OK && wait && mode === "SYNC_FLUSH") durable.push(record);
              if (r.status === PutMessageStatus.PUT_OK) appended.push({ ...record, end: r.commitLogOffset + r.size });
              if (rng.next() < 0.03) await store.flushCheckpoint();
            }
          };
          const producers = Array.from({ length: 1 + rng.int(8) }, (_, id) => producer(id));
          const cutAfter = rng.int(target);
          while (started < cutAfter) await new Promise((r) => setTimeout(r, rng.int(2)));
          halted = true;
          await store.halt();
          await Promise.all(producers);
          fs.setRules([]);
          fs.onFault = undefined;
          if (!powerCut) cut();
          if (mode === "ASYNC_FLUSH") durable.push(...appended.filter((a) => a.end <= syncedAtCut));
        }
        const store = await FileMessageStore.open(opts);
        await verify(store, durable, producerOf);
        // The log is usable afterwards.
        const r = await store.putMessage(numbered(n, { queueId: 0 }));
        assert.equal(r.status, PutMessageStatus.PUT_OK);
        await store.close();
      }
      assert.ok((stops.get("dropped") ?? 0) > 0, `some power cuts tore the tail: ${JSON.stringify([...stops])}`);
    });
  });
}

function segmentPath(offset: number, segmentBytes: number): string {
  return `/store/commitlog/${String(offset - (offset % segmentBytes)).padStart(20, "0")}`;
}

Deno.test("the last segment cut at a random byte loses only what follows the cut", async () => {
  await withSeed("cut", async (rng) => {
    for (let run = 0; run < 12; run++) {
      const fs = new MemoryFs();
      const opts = options(fs, rng);
      let store = await FileMessageStore.open(opts);
      const results = [];
      for (let i = 0; i < 60; i++) results.push(await store.putMessage(numbered(i, { queueId: i % QUEUES })));
      const crash = rng.next() < 0.5;
      if (crash) await store.halt();
      else await store.close();
      const end = store.commitLogMaxOffset();
      const segmentBytes = opts.mappedFileSizeCommitLog!;
      const lastBase = (end - 1) - ((end - 1) % segmentBytes);
      const cut = lastBase + rng.int(end - lastBase);
      const path = segmentPath(cut, segmentBytes);
      fs.overwrite(path, fs.snapshot(path)!.subarray(0, cut - lastBase));
      store = await FileMessageStore.open(opts);
      const survivors = results.filter((r) => r.commitLogOffset + r.size <= cut);
      const why = `cut at ${cut} of ${end} (${crash ? "crash" : "clean"}), recovery ${JSON.stringify(store.recovery)}`;
      await verify(store, survivors.map((r, i) => ({ n: i, queueId: i % QUEUES, queueOffset: r.queueOffset })));
      const all = await contents(store);
      assert.equal([...all.values()].reduce((s, l) => s + l.length, 0), survivors.length, why);
      const after = await store.putMessage(numbered(1000, { queueId: 0 }));
      assert.equal(after.status, PutMessageStatus.PUT_OK);
      assert.equal(after.queueOffset, all.get(0)!.length);
      await store.close();
    }
  });
});

Deno.test("an earlier segment cut at a random byte: its lost records are not served, the rest are", async () => {
  await withSeed("cut earlier", async (rng) => {
    for (let run = 0; run < 8; run++) {
      const fs = new MemoryFs();
      const opts = { ...options(fs, rng), mappedFileSizeCommitLog: 4096 };
      let store = await FileMessageStore.open(opts);
      const results: PutMessageResult[] = [];
      for (let i = 0; i < 80; i++) results.push(await store.putMessage(numbered(i, { queueId: i % QUEUES })));
      await store.close();
      const cut = rng.int(4096 * 2);
      const segmentStart = cut - (cut % 4096);
      const path = segmentPath(cut, 4096);
      fs.overwrite(path, fs.snapshot(path)!.subarray(0, cut - segmentStart));
      store = await FileMessageStore.open(opts);
      const lost = (r: { commitLogOffset: number; size: number }) =>
        r.commitLogOffset + r.size > cut && r.commitLogOffset < segmentStart + 4096;
      const expected = results.map((_, i) => i).filter((i) => !lost(results[i]));
      const all = await contents(store);
      const served = [...all.values()].flat().map(([, n]) => n).sort((a, b) => a - b);
      assert.deepEqual(served, expected, `cut at ${cut}`);
      for (const r of results) assert.equal((await store.readRecord(r.commitLogOffset)) !== undefined, !lost(r));
      assert.equal((await store.putMessage(numbered(1000))).status, PutMessageStatus.PUT_OK);
      await store.close();
    }
  });
});

Deno.test("a random bit flip after the checkpoint is detected, and the log stays usable", async () => {
  await withSeed("bit flip", async (rng) => {
    for (let run = 0; run < 10; run++) {
      const fs = new MemoryFs();
      const opts = options(fs, rng);
      let store = await FileMessageStore.open(opts);
      const results = [];
      for (let i = 0; i < 20; i++) results.push(await store.putMessage(numbered(i, { queueId: i % QUEUES })));
      await store.flushCheckpoint();
      for (let i = 20; i < 40; i++) results.push(await store.putMessage(numbered(i, { queueId: i % QUEUES })));
      await store.halt();
      // Flip a bit in a field the layout protects: size, magic, body CRC, physical offset or body.
      const victim = results[20 + rng.int(20)];
      const fields = [0, 1, 2, 3, 4, 5, 8, 9, 28, 33, 34, 35, 88 + rng.int(10)];
      const at = victim.commitLogOffset + fields[rng.int(fields.length)];
      const segmentBytes = opts.mappedFileSizeCommitLog!;
      const path = segmentPath(at, segmentBytes);
      const bytes = fs.snapshot(path)!;
      bytes[at % segmentBytes] ^= 1 << rng.int(8);
      fs.overwrite(path, bytes);
      store = await FileMessageStore.open(opts);
      assert.equal(store.recovery.endOffset, victim.commitLogOffset, store.recovery.stopReason);
      assert.match(store.recovery.stopReason, new RegExp(`${victim.commitLogOffset}`));
      assert.ok(store.recovery.dropped.length > 0, "what was dropped is reported");
      const all = await contents(store);
      assert.equal([...all.values()].reduce((s, l) => s + l.length, 0), results.indexOf(victim));
      assert.equal((await store.putMessage(numbered(99, { queueId: 1 }))).status, PutMessageStatus.PUT_OK);
      assert.deepEqual(store.verifyCommitLog().corrupt, []);
      await store.close();
    }
  });
});

Deno.test("verifyCommitLog() finds a flipped body bit anywhere, even before the checkpoint", async () => {
  const fs = new MemoryFs();
  const store = await FileMessageStore.open(smallStoreOptions(fs, { mappedFileSizeCommitLog: 1 << 20 }));
  const results = [];
  for (let i = 0; i < 10; i++) results.push(await store.putMessage(numbered(i)));
  await store.close();
  const bytes = fs.snapshot("/store/commitlog/00000000000000000000")!;
  bytes[results[3].commitLogOffset + 90] ^= 0x10;
  fs.overwrite("/store/commitlog/00000000000000000000", bytes);
  const reopened = await FileMessageStore.open(smallStoreOptions(fs, { mappedFileSizeCommitLog: 1 << 20 }));
  const report = reopened.verifyCommitLog();
  assert.equal(report.records, 9);
  assert.equal(report.corrupt.length, 1);
  assert.equal(report.corrupt[0].commitLogOffset, results[3].commitLogOffset);
  assert.match(report.corrupt[0].reason, /body CRC/);
  await reopened.close();
});

Deno.test("consume queues, index and checkpoint are rebuilt from the commit log when lost", async () => {
  const fs = new MemoryFs();
  const opts = smallStoreOptions(fs, {
    mappedFileSizeCommitLog: 4096,
    maxMessageSize: 1024,
    mappedFileSizeConsumeQueue: 8,
  });
  let store = await FileMessageStore.open(opts);
  for (let i = 0; i < 50; i++) await store.putMessage(numbered(i, { queueId: i % QUEUES }));
  const before = await contents(store);
  await store.close();
  fs.remove("/store/consumequeue", { recursive: true });
  fs.remove("/store/index", { recursive: true });
  fs.remove("/store/checkpoint");
  store = await FileMessageStore.open(opts);
  assert.equal(store.recovery.abnormal, true);
  assert.equal(store.recovery.recordsVerified, 50);
  assert.deepEqual(await contents(store), before);
  const q = await store.queryByKey("TopicTest", "k17", { maxCount: 5, beginMs: 0, endMs: 8.64e15 });
  assert.equal(q.records.length, 1);
  await store.close();
});

Deno.test("recovery zeroes the torn tail so no stale record can come back", async () => {
  await withSeed("stale tail", async (rng) => {
    const fs = new MemoryFs();
    const opts = smallStoreOptions(fs, { mappedFileSizeCommitLog: 1 << 20, flushDiskType: "ASYNC_FLUSH" });
    let store = await FileMessageStore.open(opts);
    for (let i = 0; i < 30; i++) await store.putMessage(numbered(i));
    await store.flushCheckpoint();
    for (let i = 30; i < 60; i++) await store.putMessage(numbered(i));
    await new Promise((r) => setTimeout(r, 5));
    await store.halt();
    fs.crash(() => rng.next());
    store = await FileMessageStore.open(opts);
    const end = store.recovery.endOffset;
    const bytes = fs.snapshot("/store/commitlog/00000000000000000000")!;
    assert.ok(bytes.subarray(end).every((b) => b === 0), "nothing but zeros after the end");
    await store.close();
  });
});

Deno.test("recovery keeps records larger than a since-lowered maxMessageSize", async () => {
  const fs = new MemoryFs();
  const store = await FileMessageStore.open(smallStoreOptions(fs, { maxMessageSize: 2048 }));
  for (let i = 0; i < 5; i++) await store.putMessage(numbered(i, { body: new Uint8Array(1500).fill(i) }));
  await store.halt();
  const reopened = await FileMessageStore.open(smallStoreOptions(fs, { maxMessageSize: 512 }));
  assert.equal(reopened.recovery.recordsVerified, 5);
  assert.equal(reopened.maxQueueOffset("TopicTest", 0), 5);
  assert.deepEqual(reopened.verifyCommitLog(), { records: 5, corrupt: [] });
  const big = await reopened.putMessage(numbered(9, { body: new Uint8Array(1500) }));
  assert.equal(big.status, PutMessageStatus.MESSAGE_ILLEGAL, "new puts obey the new limit");
  await reopened.close();
});
