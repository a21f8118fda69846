/**
 * Retention (fileReservedTime at deleteWhen, early deletion above diskMaxUsedSpaceRatio) and a
 * full disk (refusal above diskSpaceWarningLevelRatio, ENOSPC while rolling a segment).
 */

import assert from "node:assert/strict";
import { FaultyFs, MemoryFs } from "./_fs.ts";
import { ManualClock, numbered, smallStoreOptions } from "./_test_util.ts";
import { FileMessageStore } from "./file_store.ts";
import { GetMessageStatus, PutMessageStatus } from "./store.ts";

const HOUR = 3_600_000;

async function filled(fs: MemoryFs | FaultyFs, clock: ManualClock, count: number, deleteWhen?: string) {
  const store = await FileMessageStore.open(smallStoreOptions(fs, {
    clock,
    mappedFileSizeCommitLog: 4096,
    maxMessageSize: 1024,
    mappedFileSizeConsumeQueue: 8,
    maxIndexNum: 16,
    deleteWhen: deleteWhen ?? String(new Date(clock.ms).getHours()).padStart(2, "0"),
    fileReservedTime: 72,
  }));
  const results = [];
  for (let i = 0; i < count; i++) {
    results.push(await store.putMessage(numbered(i, { body: new Uint8Array(200).fill(i % 256) })));
    clock.ms += 60_000;
  }
  return { store, results };
}

Deno.test("retention deletes segments past fileReservedTime at deleteWhen; reads below report offset moved", async () => {
  const clock = new ManualClock();
  const fs = new MemoryFs({ now: () => clock.ms });
  const start = clock.ms;
  const { store, results } = await filled(
    fs,
    clock,
    120,
    "00;01;02;03;04;05;06;07;08;09;10;11;12;13;14;15;16;17;18;19;20;21;22;23",
  );
  const segments = () => fs.readDir("/store/commitlog").length;
  const before = segments();
  assert.ok(before >= 5);
  assert.equal(store.runRetention(), 0, "nothing is 72 hours old yet");
  // 72 h after the first hour of appends: segments sealed during that hour have expired.
  clock.ms = start + 73 * HOUR;
  const deleted = store.runRetention();
  assert.ok(deleted > 0, "expired segments go");
  assert.ok(segments() < before);
  const min = store.commitLogMinOffset();
  assert.ok(min > 0);
  assert.ok(store.minQueueOffset("TopicTest", 0) > 0);
  const r = await store.getMessages("TopicTest", 0, 0, { maxCount: 10, maxBytes: 1 << 20 });
  assert.equal(r.status, GetMessageStatus.OFFSET_TOO_SMALL);
  assert.equal(r.nextBeginOffset, store.minQueueOffset("TopicTest", 0));
  const first = results.find((x) => x.commitLogOffset >= min)!;
  assert.equal(store.minQueueOffset("TopicTest", 0), first.queueOffset);
  assert.ok(results.filter((x) => x.commitLogOffset < min).every((x) => x.storeTimestamp < start + HOUR + 60_000));
  const ok = await store.getMessages("TopicTest", 0, r.nextBeginOffset, { maxCount: 1, maxBytes: 1 << 20 });
  assert.equal(ok.status, GetMessageStatus.FOUND);
  assert.equal(await store.readRecord(results[0].commitLogOffset), undefined);
  const q = await store.queryByKey("TopicTest", "k0", { maxCount: 5, beginMs: 0, endMs: 8.64e15 });
  assert.equal(q.records.length, 0, "index entries of deleted records lead nowhere");
  await store.close();
  // A restart agrees on the minimum.
  const reopened = await FileMessageStore.open(smallStoreOptions(fs, {
    clock,
    mappedFileSizeCommitLog: 4096,
    maxMessageSize: 1024,
    mappedFileSizeConsumeQueue: 8,
    maxIndexNum: 16,
  }));
  assert.equal(reopened.minQueueOffset("TopicTest", 0), first.queueOffset);
  assert.equal(reopened.commitLogMinOffset(), min);
  await reopened.close();
});

Deno.test("retention outside deleteWhen keeps expired segments unless the disk is over diskMaxUsedSpaceRatio", async () => {
  const clock = new ManualClock();
  const memory = new MemoryFs({ now: () => clock.ms });
  const fs = new FaultyFs(memory);
  const { store } = await filled(fs, clock, 80);
  clock.ms += 100 * HOUR + HOUR / 2;
  if (new Date(clock.ms).getHours() === new Date(clock.ms - 100 * HOUR - HOUR / 2).getHours()) clock.ms += HOUR;
  assert.equal(store.runRetention(), 0, "not the hour of deleteWhen");
  fs.diskUsedRatio = 0.8;
  const deleted = store.runRetention();
  assert.ok(deleted > 0, "over 75% the oldest go at once");
  assert.ok(store.commitLogMinOffset() > 0);
  await store.close();
});

Deno.test("above diskSpaceWarningLevelRatio puts answer DISK_FULL; they resume when space returns", async () => {
  const clock = new ManualClock();
  const fs = new FaultyFs(new MemoryFs());
  const store = await FileMessageStore.open(smallStoreOptions(fs, { clock }));
  fs.diskUsedRatio = 0.95;
  store.runRetention();
  const r = await store.putMessage(numbered(1));
  assert.equal(r.status, PutMessageStatus.DISK_FULL);
  assert.match(r.reason, /Disk use is 95\.0%, limit is 90%/);
  assert.equal(store.runtimeInfo().diskFull, true);
  fs.diskUsedRatio = 0.5;
  store.runRetention();
  assert.equal((await store.putMessage(numbered(2))).status, PutMessageStatus.PUT_OK);
  await store.close();
});

Deno.test("ENOSPC while creating the next segment answers DISK_FULL and leaves the log consistent", async () => {
  const fs = new FaultyFs(new MemoryFs());
  const options = smallStoreOptions(fs, { mappedFileSizeCommitLog: 4096, maxMessageSize: 1024 });
  const store = await FileMessageStore.open(options);
  // Every open of a new commit-log file fails: the pre-created next segment is used first, then none.
  fs.setRules([{ op: "create", nth: 1, sticky: true, code: "ENOSPC", pathIncludes: "commitlog" }]);
  const statuses: string[] = [];
  for (let i = 0; i < 80; i++) statuses.push((await store.putMessage(numbered(i))).status);
  const okCount = statuses.filter((s) => s === PutMessageStatus.PUT_OK).length;
  assert.ok(statuses.includes(PutMessageStatus.DISK_FULL), statuses.join(","));
  assert.deepEqual(statuses.slice(0, okCount), Array(okCount).fill(PutMessageStatus.PUT_OK));
  fs.setRules([]);
  assert.equal((await store.putMessage(numbered(100))).status, PutMessageStatus.PUT_OK);
  assert.equal(store.runtimeInfo().fenced, false);
  await store.close();
  const reopened = await FileMessageStore.open(options);
  assert.equal(reopened.maxQueueOffset("TopicTest", 0), okCount + 1);
  await reopened.close();
});
