import assert from "node:assert/strict";
import { denoFs, errorCode, FaultyFs, MemoryFs } from "./_fs.ts";
import { Rng } from "./_test_util.ts";

Deno.test("MemoryFs.crash() keeps synced bytes and a random subset of unsynced sectors", () => {
  const fs = new MemoryFs();
  fs.mkdir("/d");
  const f = fs.open("/d/f", { create: true });
  f.writeAt(new Uint8Array(1024).fill(1), 0);
  f.syncData();
  f.writeAt(new Uint8Array(4096).fill(2), 1024);
  const rng = new Rng(7);
  fs.crash(() => rng.next());
  const after = fs.snapshot("/d/f")!;
  assert.ok(after.subarray(0, 1024).every((b) => b === 1), "synced bytes survive");
  const sectors = new Set<number>();
  for (let s = 1024; s < 5120; s += 512) sectors.add(after[s] ?? 0);
  assert.ok(sectors.has(2) && sectors.has(0), "some unsynced sectors survive, some do not");
  assert.throws(() => f.readAt(new Uint8Array(1), 0), /predates a crash/);
});

Deno.test("FaultyFs fails the Nth matching call, writes short, and reports codes", () => {
  const fs = new FaultyFs(new MemoryFs(), {
    rules: [
      { op: "write", nth: 2, code: "ENOSPC", pathIncludes: "data" },
      { op: "sync", nth: 1 },
      { op: "write", nth: 3, kind: "short" },
    ],
  });
  fs.mkdir("/d");
  const f = fs.open("/d/data", { create: true });
  assert.equal(f.writeAt(new Uint8Array(10), 0), 10);
  assert.throws(() => f.writeAt(new Uint8Array(10), 10), (e) => errorCode(e) === "ENOSPC");
  assert.equal(f.writeAt(new Uint8Array(10), 10), 5, "a short write");
  assert.throws(() => f.syncData(), (e) => errorCode(e) === "EIO");
  f.syncData();
  const faults: string[] = [];
  fs.onFault = (rule, op) => faults.push(`${op}:${rule.nth}`);
  fs.setRules([{ op: "create", nth: 1 }]);
  assert.throws(() => fs.open("/d/x", { create: true }));
  assert.deepEqual(faults, ["create:1"]);
  fs.diskUsedRatio = 0.8;
  const usage = fs.diskUsage("/d");
  assert.equal(1 - usage!.freeBytes / usage!.totalBytes, 0.8);
});

Deno.test("denoFs writes and reads at positions, preallocates zeros and locks exclusively", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomq-fs-" });
  try {
    const f = denoFs.open(`${dir}/f`, { create: true });
    assert.equal(f.writeAt(new Uint8Array([1, 2, 3]), 10), 3);
    const target = new Uint8Array(5);
    assert.equal(f.readAt(target, 9), 4);
    assert.deepEqual([...target], [0, 1, 2, 3, 0]);
    f.syncData();
    await f.syncDataAsync();
    f.close();
    const length = await denoFs.preallocate(`${dir}/g`, 5 * 1024 * 1024 + 3, { stopped: false });
    assert.equal(length, 5 * 1024 * 1024 + 3);
    assert.equal((await Deno.stat(`${dir}/g`)).size, length);
    const release = denoFs.lock(`${dir}/lock`);
    assert.ok(release);
    assert.equal(denoFs.lock(`${dir}/lock`), undefined);
    release();
    denoFs.lock(`${dir}/lock`)!();
    assert.deepEqual(denoFs.readDir(`${dir}/missing`), []);
    assert.ok(denoFs.diskUsage(dir)!.totalBytes > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
