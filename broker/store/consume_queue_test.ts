import assert from "node:assert/strict";
import { MemoryFs } from "./_fs.ts";
import { BLANK_UNIT_SIZE, ConsumeQueue, CQ_UNIT_BYTES } from "./consume_queue.ts";
import { getU64 } from "./_record.ts";

function queue(fs: MemoryFs, unitsPerFile = 10) {
  return new ConsumeQueue(fs, "/cq", "T", 0, unitsPerFile, { pendingBytes: 0 });
}

function units(cq: ConsumeQueue, from: number, count: number) {
  const target = new Uint8Array(count * CQ_UNIT_BYTES);
  const n = cq.readUnits(from, count, target);
  const view = new DataView(target.buffer);
  return Array.from(
    { length: n },
    (_, i) => [getU64(view, i * 20), view.getInt32(i * 20 + 8), getU64(view, i * 20 + 12)],
  );
}

Deno.test("CQ_UNIT_BYTES is the 20-byte unit of reference §12.3", () => {
  assert.equal(CQ_UNIT_BYTES, 8 + 4 + 8);
});

Deno.test("consumeQueue.put() buffers units, writes them across files and reads them back", () => {
  const fs = new MemoryFs();
  const cq = queue(fs);
  for (let i = 0; i < 25; i++) cq.put(i, 1000 + i * 100, 100, -i);
  assert.equal(cq.maxOffset, 25);
  assert.deepEqual(units(cq, 8, 4), [[1800, 100, -8], [1900, 100, -9], [2000, 100, -10], [2100, 100, -11]]);
  cq.flushPending();
  assert.equal(cq.pendingUnits, 0);
  assert.deepEqual(fs.readDir("/cq/T/0").map((e) => e.name).sort(), [
    "00000000000000000000",
    "00000000000000000200",
    "00000000000000000400",
  ]);
  assert.equal(fs.snapshot("/cq/T/0/00000000000000000000")!.length, 200, "files are sized for unitsPerFile");
  assert.deepEqual(units(cq, 8, 4), [[1800, 100, -8], [1900, 100, -9], [2000, 100, -10], [2100, 100, -11]]);
  assert.deepEqual(cq.unit(24), { commitLogOffset: 3400, size: 100, tagsCode: -24 });
  assert.equal(cq.unit(25), undefined);
});

Deno.test("consumeQueue.recover() keeps units below the checkpoint and cuts the rest", () => {
  const fs = new MemoryFs();
  const cq = queue(fs);
  for (let i = 0; i < 25; i++) cq.put(i, i * 100, 100, 0);
  cq.flushPending();
  cq.close();
  const again = queue(fs);
  again.load();
  again.recover(1500, () => true);
  assert.equal(again.maxOffset, 15);
  assert.deepEqual(fs.readDir("/cq/T/0").map((e) => e.name).sort(), ["00000000000000000000", "00000000000000000200"]);
  assert.deepEqual(units(again, 14, 5).length, 1);
  again.put(15, 1500, 100, 7);
  assert.deepEqual(again.unit(15), { commitLogOffset: 1500, size: 100, tagsCode: 7 });
});

Deno.test("consumeQueue.recover() walks back past units that fail verification", () => {
  const fs = new MemoryFs();
  const cq = queue(fs, 100);
  for (let i = 0; i < 30; i++) cq.put(i, i * 100, 100, 0);
  cq.flushPending();
  const again = queue(fs, 100);
  again.load();
  again.recover(1e9, (q) => q < 27);
  assert.equal(again.maxOffset, 27);
});

Deno.test("a queue that starts mid-file is padded with blank units and its minimum skips them", () => {
  const fs = new MemoryFs();
  const cq = queue(fs);
  cq.put(13, 5000, 100, 1);
  cq.put(14, 5100, 100, 1);
  assert.equal(cq.minOffset, 13);
  assert.equal(cq.maxOffset, 15);
  assert.equal(cq.unit(10)?.size ?? BLANK_UNIT_SIZE, BLANK_UNIT_SIZE);
  cq.flushPending();
  const again = queue(fs);
  again.load();
  again.recover(1e9, () => true);
  again.correctMinOffset(0);
  assert.equal(again.minOffset, 13);
  assert.equal(again.maxOffset, 15);
});

Deno.test("consumeQueue.deleteBelow() deletes whole files below the commit-log minimum and moves the minimum", () => {
  const fs = new MemoryFs();
  const cq = queue(fs);
  for (let i = 0; i < 35; i++) cq.put(i, i * 100, 100, 0);
  cq.flushPending();
  assert.equal(cq.deleteBelow(2450), 2);
  assert.equal(cq.minOffset, 25);
  assert.equal(fs.readDir("/cq/T/0").length, 2);
  assert.equal(cq.hasFileFor(5), false);
  assert.equal(cq.hasFileFor(25), true);
});

Deno.test("consumeQueue.truncate() cuts buffered and written units", () => {
  const fs = new MemoryFs();
  const cq = queue(fs);
  for (let i = 0; i < 15; i++) cq.put(i, i * 100, 100, 0);
  cq.flushPending();
  for (let i = 15; i < 18; i++) cq.put(i, i * 100, 100, 0);
  cq.truncate(16);
  assert.equal(cq.maxOffset, 16);
  cq.truncate(12);
  assert.equal(cq.maxOffset, 12);
  cq.put(12, 99_999, 50, 0);
  assert.deepEqual(cq.unit(12), { commitLogOffset: 99_999, size: 50, tagsCode: 0 });
  assert.equal(cq.unit(13), undefined);
});
