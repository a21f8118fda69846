/**
 * Commit-log behaviour through the file store: segments and blanks, group commit, flush modes,
 * fencing on write and sync failures (the Nth call), short writes, ENOSPC, the bounded write
 * buffer, and the flush Worker with an injected fault.
 */

import assert from "node:assert/strict";
import { BLANK_MAGIC_CODE } from "../../protocol/message.ts";
import { FaultyFs, MemoryFs } from "./_fs.ts";
import { bodies, numbered, smallStoreOptions } from "./_test_util.ts";
import { FileMessageStore } from "./file_store.ts";
import type { InlineFlusher } from "./flush.ts";
import { GetMessageStatus, PutMessageStatus } from "./store.ts";

const ALL = { maxCount: 10_000, maxBytes: 1 << 30 };

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => open = resolve);
  return { promise, open };
}

async function readAll(store: FileMessageStore, queueId = 0): Promise<string[]> {
  const out: string[] = [];
  let offset = store.minQueueOffset("TopicTest", queueId);
  for (;;) {
    const r = await store.getMessages("TopicTest", queueId, offset, ALL);
    if (r.status !== GetMessageStatus.FOUND) return out;
    out.push(...bodies(r.records));
    offset = r.nextBeginOffset;
  }
}

Deno.test("commitLog rolls to the next segment with a BLANK record and 20-digit names", async () => {
  const fs = new MemoryFs();
  const store = await FileMessageStore.open(
    smallStoreOptions(fs, { mappedFileSizeCommitLog: 4096, maxMessageSize: 1024 }),
  );
  const results = [];
  for (let i = 0; i < 60; i++) results.push(await store.putMessage(numbered(i)));
  const names = fs.readDir("/store/commitlog").map((e) => e.name).sort();
  assert.ok(names.length >= 3);
  assert.equal(names[0], "00000000000000000000");
  assert.equal(names[1], "00000000000000004096");
  for (const r of results) {
    assert.equal(Math.floor(r.commitLogOffset / 4096), Math.floor((r.commitLogOffset + r.size + 7) / 4096));
  }
  // The last record of segment 0 is followed by [remaining][BLANK magic].
  const last = results.filter((r) => r.commitLogOffset < 4096).at(-1)!;
  const seg = fs.snapshot("/store/commitlog/00000000000000000000")!;
  const view = new DataView(seg.buffer);
  const blankAt = last.commitLogOffset + last.size;
  assert.equal(view.getInt32(blankAt), 4096 - blankAt);
  assert.equal(view.getInt32(blankAt + 4), BLANK_MAGIC_CODE);
  assert.equal((await readAll(store)).length, 60);
  await store.close();
  const reopened = await FileMessageStore.open(
    smallStoreOptions(fs, { mappedFileSizeCommitLog: 4096, maxMessageSize: 1024 }),
  );
  assert.equal((await readAll(reopened)).length, 60);
  assert.equal(reopened.recovery.abnormal, false);
  await reopened.close();
});

Deno.test("SYNC_FLUSH group commit: one fdatasync covers every put that arrived meanwhile", async () => {
  const fs = new MemoryFs();
  const store = await FileMessageStore.open(smallStoreOptions(fs, { mappedFileSizeCommitLog: 1 << 20 }));
  const before = store.runtimeInfo().commitLogSyncCount;
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.putMessage(numbered(i))));
  assert.ok(results.every((r) => r.status === PutMessageStatus.PUT_OK));
  const syncs = store.runtimeInfo().commitLogSyncCount - before;
  assert.ok(syncs <= 3, `200 concurrent puts took ${syncs} fdatasyncs`);
  await store.close();
});

Deno.test("SYNC_FLUSH put resolves only after the fdatasync covering it; reads see it before", async () => {
  const store = await FileMessageStore.open(smallStoreOptions(new MemoryFs()));
  const flusher = store.flusher as InlineFlusher;
  const hold = gate();
  flusher.gate = hold.promise;
  let settled = false;
  const put = store.putMessage(numbered(1)).then((r) => {
    settled = true;
    return r;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(settled, false);
  assert.equal(store.commitLog.syncedOffset, 0);
  // Not on disk yet, but readable from the write buffer.
  assert.deepEqual(await readAll(store), ["message-1"]);
  // WAIT=false waits only for its write; in SYNC_FLUSH every round ends with an fdatasync, so
  // here that is the same round.
  const noWait = store.putMessage(numbered(2, { waitForFlush: false }));
  hold.open();
  assert.equal((await noWait).status, PutMessageStatus.PUT_OK);
  const r = await put;
  assert.equal(r.status, PutMessageStatus.PUT_OK);
  assert.ok(store.commitLog.syncedOffset >= r.commitLogOffset + r.size);
  await store.close();
});

Deno.test("SYNC_FLUSH put not covered within syncFlushTimeout answers FLUSH_DISK_TIMEOUT", async () => {
  const store = await FileMessageStore.open(smallStoreOptions(new MemoryFs(), { syncFlushTimeout: 30 }));
  const flusher = store.flusher as InlineFlusher;
  const hold = gate();
  flusher.gate = hold.promise;
  const r = await store.putMessage(numbered(1));
  assert.equal(r.status, PutMessageStatus.FLUSH_DISK_TIMEOUT);
  assert.match(r.reason, /within 30 ms/);
  assert.ok(r.commitLogOffset >= 0, "the record was appended; only its durability is unknown");
  hold.open();
  assert.equal((await store.putMessage(numbered(2))).status, PutMessageStatus.PUT_OK);
  assert.equal(store.runtimeInfo().flushDiskTimeoutCount, 1);
  await store.close();
});

Deno.test("ASYNC_FLUSH answers once written (page cache), before the sync, and syncs on the interval", async () => {
  const store = await FileMessageStore.open(
    smallStoreOptions(new MemoryFs(), {
      flushDiskType: "ASYNC_FLUSH",
      flushIntervalCommitLog: 10,
      flushCommitLogLeastPages: 0,
    }),
  );
  const flusher = store.flusher as InlineFlusher;
  const hold = gate();
  flusher.syncGate = hold.promise;
  const r = await store.putMessage(numbered(1));
  assert.equal(r.status, PutMessageStatus.PUT_OK);
  assert.ok(store.commitLog.writtenOffset >= r.commitLogOffset + r.size, "acknowledged only once written");
  assert.equal(store.commitLog.syncedOffset, 0);
  hold.open();
  for (let i = 0; i < 1000 && store.commitLog.syncedOffset === 0; i++) await new Promise((x) => setTimeout(x, 5));
  assert.equal(store.commitLog.syncedOffset, r.commitLogOffset + r.size);
  await store.close();
});

for (const op of ["write", "sync"] as const) {
  Deno.test(`a failed ${op} on the Nth call fences the store; acknowledged records survive a restart`, async () => {
    const memory = new MemoryFs();
    const fs = new FaultyFs(memory);
    const options = smallStoreOptions(fs);
    const store = await FileMessageStore.open(options);
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await store.putMessage(numbered(i));
      assert.equal(r.status, PutMessageStatus.PUT_OK);
      acked.push(`message-${i}`);
    }
    fs.setRules([{ op, nth: 1, pathIncludes: "commitlog", code: "EIO" }]);
    const failing = await Promise.all([5, 6, 7].map((i) => store.putMessage(numbered(i))));
    for (const r of failing) {
      assert.equal(r.status, PutMessageStatus.STORE_FENCED);
      assert.match(r.reason, /EIO/);
    }
    fs.setRules([]);
    const refused = await store.putMessage(numbered(8));
    assert.equal(
      refused.status,
      PutMessageStatus.STORE_FENCED,
      "no success after an I/O error, even once the disk recovers",
    );
    assert.equal(refused.commitLogOffset, -1);
    assert.equal(store.runtimeInfo().fenced, true);
    // Reads are still served, from memory where needed.
    assert.deepEqual((await readAll(store)).slice(0, 5), acked);
    await store.close();
    const reopened = await FileMessageStore.open(options);
    assert.equal(reopened.recovery.abnormal, true, "a fenced store does not close cleanly");
    assert.deepEqual((await readAll(reopened)).slice(0, 5), acked);
    assert.equal((await reopened.putMessage(numbered(9))).status, PutMessageStatus.PUT_OK);
    await reopened.close();
  });
}

Deno.test("short writes are resumed: every byte reaches the file", async () => {
  const memory = new MemoryFs();
  const fs = new FaultyFs(memory, {
    rules: [{ op: "write", nth: 1, kind: "short", sticky: true, pathIncludes: "commitlog" }],
  });
  const options = smallStoreOptions(fs);
  const store = await FileMessageStore.open(options);
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => store.putMessage(numbered(i))));
  assert.ok(results.every((r) => r.status === PutMessageStatus.PUT_OK));
  await store.halt();
  memory.crash(() => 0.99); // keep nothing unsynced: only what fdatasync covered survives
  fs.setRules([]);
  const reopened = await FileMessageStore.open(options);
  assert.equal((await readAll(reopened)).length, 30);
  await reopened.close();
});

Deno.test("ENOSPC on a commit-log write refuses puts with DISK_FULL and resumes when space returns", async () => {
  const memory = new MemoryFs();
  const fs = new FaultyFs(memory);
  const store = await FileMessageStore.open(
    smallStoreOptions(fs, { flushIntervalCommitLog: 10, syncFlushTimeout: 5000 }),
  );
  assert.equal((await store.putMessage(numbered(0))).status, PutMessageStatus.PUT_OK);
  fs.setRules([{ op: "write", nth: 1, sticky: true, code: "ENOSPC", pathIncludes: "commitlog" }]);
  const waiting = store.putMessage(numbered(1));
  for (let i = 0; i < 1000 && !store.runtimeInfo().diskFull; i++) await new Promise((x) => setTimeout(x, 2));
  const refused = await store.putMessage(numbered(2));
  assert.equal(refused.status, PutMessageStatus.DISK_FULL);
  assert.match(refused.reason, /ENOSPC/);
  fs.setRules([]);
  const r = await waiting;
  assert.equal(r.status, PutMessageStatus.PUT_OK, "the retried write and sync cover the waiting put");
  assert.equal((await store.putMessage(numbered(3))).status, PutMessageStatus.PUT_OK);
  assert.equal(store.runtimeInfo().fenced, false);
  assert.deepEqual(await readAll(store), ["message-0", "message-1", "message-3"]);
  await store.close();
});

Deno.test("a full write buffer makes puts wait, then answer OS_PAGECACHE_BUSY", async () => {
  const store = await FileMessageStore.open(smallStoreOptions(new MemoryFs(), {
    maxMessageSize: 1024,
    writeBufferBytesMax: 8192,
    osPageCacheBusyTimeOutMills: 40,
    syncFlushTimeout: 5000,
    mappedFileSizeCommitLog: 1 << 20,
  }));
  const flusher = store.flusher as InlineFlusher;
  let hold = gate();
  flusher.gate = hold.promise;
  const puts = Array.from({ length: 60 }, (_, i) => store.putMessage(numbered(i)));
  // Far more than the buffer holds: the puts past it wait 40 ms for room, then give up.
  const firstBusy = await Promise.any(
    puts.map((p) => p.then((r) => r.status === PutMessageStatus.OS_PAGECACHE_BUSY ? r : Promise.reject(r))),
  );
  assert.match(firstBusy.reason, /write buffer \(8192 bytes\) stayed full for 40 ms/);
  hold.open();
  const settled = await Promise.all(puts);
  const ok = settled.filter((r) => r.status === PutMessageStatus.PUT_OK).length;
  const busy = settled.filter((r) => r.status === PutMessageStatus.OS_PAGECACHE_BUSY).length;
  assert.ok(busy > 0 && ok > 0, `${ok} ok, ${busy} busy`);
  assert.equal(ok + busy, 60);
  assert.equal(store.runtimeInfo().pageCacheBusyCount, busy);
  // Room returns once the flusher catches up; waiting puts get in.
  hold = gate();
  flusher.gate = hold.promise;
  const waiting = store.putMessage(numbered(100));
  const more = Array.from({ length: 10 }, (_, i) => store.putMessage(numbered(200 + i)));
  setTimeout(() => hold.open(), 10);
  assert.equal((await waiting).status, PutMessageStatus.PUT_OK);
  assert.ok((await Promise.all(more)).every((r) => r.status === PutMessageStatus.PUT_OK));
  await store.close();
});

Deno.test("the flush Worker applies a fault plan: a failed fdatasync fences the store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomq-worker-" });
  try {
    const options = {
      ...smallStoreOptions(undefined as never),
      fs: undefined,
      storePathRootDir: dir,
      flushInWorker: true,
      workerFaultPlan: { rules: [{ op: "sync" as const, nth: 4, code: "EIO" }] },
    };
    const store = await FileMessageStore.open(options);
    const statuses: string[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await store.putMessage(numbered(i))).status);
    assert.deepEqual(statuses.slice(0, 3), ["PUT_OK", "PUT_OK", "PUT_OK"]);
    assert.deepEqual(statuses.slice(3), ["STORE_FENCED", "STORE_FENCED", "STORE_FENCED"]);
    await store.close();
    const reopened = await FileMessageStore.open({ ...options, workerFaultPlan: undefined });
    assert.deepEqual((await readAll(reopened)).slice(0, 3), ["message-0", "message-1", "message-2"]);
    assert.equal((await reopened.putMessage(numbered(9))).status, PutMessageStatus.PUT_OK);
    await reopened.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second open of the same store is refused while the first holds the lock", async () => {
  const fs = new MemoryFs();
  const store = await FileMessageStore.open(smallStoreOptions(fs));
  await assert.rejects(() => FileMessageStore.open(smallStoreOptions(fs)), /holds its lock/);
  await store.close();
  const again = await FileMessageStore.open(smallStoreOptions(fs));
  await again.close();
});

Deno.test("a failed round voids the round in flight behind it: its puts wait for the rewrite", async () => {
  const fs = new FaultyFs(new MemoryFs());
  const store = await FileMessageStore.open(smallStoreOptions(fs, { flushIntervalCommitLog: 50 }));
  const flusher = store.flusher as InlineFlusher;
  const hold = gate();
  flusher.gate = hold.promise;
  const first = store.putMessage(numbered(1));
  await new Promise((resolve) => setTimeout(resolve, 5));
  const second = store.putMessage(numbered(2));
  await new Promise((resolve) => setTimeout(resolve, 5));
  // Only the first round's write fails (no space); the second round alone would write and sync.
  fs.setRules([{ op: "write", nth: 1, code: "ENOSPC", pathIncludes: "commitlog" }]);
  hold.open();
  for (let i = 0; i < 1000 && flusher.rounds < 2; i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(flusher.rounds >= 2, "both rounds reached the disk");
  assert.equal(store.commitLog.syncedOffset, 0, "the second round's fdatasync does not cover the first's bytes");
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.status, PutMessageStatus.PUT_OK);
  assert.equal(b.status, PutMessageStatus.PUT_OK);
  assert.ok(store.commitLog.syncedOffset >= b.commitLogOffset + b.size);
  assert.deepEqual(await readAll(store), ["message-1", "message-2"]);
  await store.close();
});

Deno.test("ASYNC_FLUSH put is acknowledged only after its bytes reach the file (a process crash loses nothing acked)", async () => {
  const store = await FileMessageStore.open(smallStoreOptions(new MemoryFs(), { flushDiskType: "ASYNC_FLUSH" }));
  const flusher = store.flusher as InlineFlusher;
  const hold = gate();
  flusher.gate = hold.promise;
  let settled = false;
  const put = store.putMessage(numbered(1)).then((r) => (settled = true, r));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(settled, false, "not acknowledged while the write is held");
  hold.open();
  const r = await put;
  assert.equal(r.status, PutMessageStatus.PUT_OK);
  assert.ok(store.commitLog.writtenOffset >= r.commitLogOffset + r.size);
  await store.close();
});
