import assert from "node:assert/strict";
import { javaStringHashCode } from "../../protocol/message.ts";
import { MemoryFs } from "./_fs.ts";
import {
  INDEX_ENTRY_BYTES,
  INDEX_HEADER_BYTES,
  INDEX_SLOT_BYTES,
  indexFileName,
  indexKeyHash,
  IndexService,
} from "./index_file.ts";

const T0 = Date.UTC(2026, 0, 1);

Deno.test("index layout sizes are those of reference §12.4", () => {
  assert.equal(INDEX_HEADER_BYTES, 8 * 4 + 4 + 4);
  assert.equal(INDEX_SLOT_BYTES, 4);
  assert.equal(INDEX_ENTRY_BYTES, 4 + 8 + 4 + 4);
  assert.equal(INDEX_HEADER_BYTES + 5_000_000 * 4 + 20_000_000 * 20, 420_000_040);
});

Deno.test("indexKeyHash() is |Java hashCode(topic#key)|", () => {
  for (const [topic, key] of [["T", "k"], ["TopicTest", "UNIQ0001"], ["漢字", "é"]]) {
    assert.equal(indexKeyHash(topic, key), Math.abs(javaStringHashCode(`${topic}#${key}`)));
  }
  assert.match(indexFileName(T0), /^\d{17}$/);
});

Deno.test("indexService.select() follows slot chains newest first, bounded by time and count", () => {
  let now = T0;
  const index = new IndexService(new MemoryFs(), "/index", 7, 1000, () => now);
  index.load(undefined, false);
  for (let i = 0; i < 50; i++) index.put("T", [`k${i % 5}`, `u${i}`], i * 100, T0 + i * 1000);
  assert.deepEqual(index.select("T", "k3", 100, 0, 8.64e15), [
    4800,
    4300,
    3800,
    3300,
    2800,
    2300,
    1800,
    1300,
    800,
    300,
  ]);
  assert.deepEqual(index.select("T", "k3", 3, 0, 8.64e15), [4800, 4300, 3800]);
  assert.deepEqual(index.select("T", "k3", 100, T0 + 10_000, T0 + 20_000), [1800, 1300]);
  assert.deepEqual(index.select("T", "u7", 100, 0, 8.64e15), [700]);
  assert.deepEqual(index.select("Other", "u7", 100, 0, 8.64e15), []);
  now++;
  index.close();
});

Deno.test("indexService rolls to a new file when full and queries across files", () => {
  let now = T0;
  const fs = new MemoryFs();
  const index = new IndexService(fs, "/index", 11, 10, () => now++);
  index.load(undefined, false);
  for (let i = 0; i < 35; i++) index.put("T", [`k${i % 2}`], i * 10, T0 + i);
  assert.equal(index.fileCount, 4);
  assert.equal(index.select("T", "k1", 100, 0, 8.64e15).length, 17);
  assert.equal(index.deleteBelow(200), 2, "files whose entries all point below 200");
  assert.equal(index.select("T", "k1", 100, 0, 8.64e15).length, 17 - 9);
  index.close();
});

Deno.test("indexService.load() cuts the active file back to the checkpoint and rebuilds its slots", () => {
  const fs = new MemoryFs();
  const index = new IndexService(fs, "/index", 13, 1000, () => T0);
  index.load(undefined, false);
  for (let i = 0; i < 20; i++) index.put("T", [`k${i % 4}`], i * 100, T0 + i * 1000);
  const checkpoint = index.checkpoint();
  for (let i = 20; i < 30; i++) index.put("T", [`k${i % 4}`], i * 100, T0 + i * 1000);
  index.flush();
  index.close();
  const reopened = new IndexService(fs, "/index", 13, 1000, () => T0);
  reopened.load(checkpoint, false);
  assert.deepEqual(reopened.select("T", "k1", 100, 0, 8.64e15), [1700, 1300, 900, 500, 100]);
  reopened.put("T", ["k1"], 2100, T0 + 21_000);
  assert.deepEqual(reopened.select("T", "k1", 2, 0, 8.64e15), [2100, 1700]);
  reopened.close();
  const clean = new IndexService(fs, "/index", 13, 1000, () => T0);
  clean.flush();
  clean.load({ fileName: "", indexCount: 0 }, false);
  assert.equal(clean.fileCount, 0, "files newer than the checkpoint are deleted");
  clean.close();
});
