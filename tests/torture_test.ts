/**
 * Short, seeded slices of the torture suites (`deno task torture …` runs the long versions).
 */

import assert from "node:assert/strict";
import { runCrashTorture } from "../torture/crash.ts";
import { fuzzFailures, runFuzz } from "../torture/fuzz.ts";
import { startCluster } from "./_process.ts";

Deno.test("torture fuzz (seeded slice): malformed frames never hang or crash the servers; the canary is unaffected", async () => {
  const cluster = await startCluster({ longPollMsMax: "500" });
  try {
    const seed = 20261126;
    const report = await runFuzz({
      frames: 4000,
      seed,
      namesrv: cluster.namesrv,
      broker: cluster.brokerAddr,
      pids: { nameserver: cluster.nameServer.child.pid, broker: cluster.broker.child.pid },
    });
    assert.deepEqual(
      fuzzFailures(report, 64 * 1024),
      [],
      `replay with deno task torture fuzz --frames 4000 --seed ${seed}`,
    );
    assert.ok(report.closedByServer > 0 && report.answered > 0, "both answers and closes were exercised");
  } finally {
    await cluster.close();
  }
});

Deno.test("torture crash (seeded slice): kill -9 during SYNC_FLUSH load, restart, nothing acknowledged lost", async () => {
  const seed = 7;
  const report = await runCrashTorture({ cycles: 3, seed, producers: 16, loadMsMax: 800 });
  assert.equal(report.cycles.length, 3, `replay with deno task torture crash --cycles 3 --seed ${seed}`);
  assert.ok(report.acknowledged > 0);
  assert.equal(report.lost, 0);
  assert.equal(report.duplicated, 0);
  assert.equal(report.corrupt, 0);
  assert.equal(report.offsetsAhead, 0);
});

Deno.test("torture crash (seeded slice, ASYNC_FLUSH): a process crash loses nothing acknowledged either", async () => {
  const seed = 8;
  const report = await runCrashTorture({
    cycles: 3,
    seed,
    producers: 16,
    loadMsMax: 800,
    flushDiskType: "ASYNC_FLUSH",
  });
  assert.equal(report.cycles.length, 3, `replay with deno task torture crash --flush async --cycles 3 --seed ${seed}`);
  assert.ok(report.acknowledged > 0);
  assert.equal(report.lost, 0);
  assert.equal(report.duplicated, 0);
  assert.equal(report.corrupt, 0);
});

Deno.test("torture corrupt (seeded slice): after torn or bit-flipped store files the broker starts and never serves a bad record", async () => {
  const { runCorruptTorture } = await import("../torture/corrupt.ts");
  const seed = 5;
  const report = await runCorruptTorture({ rounds: 6, seed, messages: 600 });
  assert.equal(
    report.startsFailed,
    0,
    `replay with deno task torture corrupt --rounds 6 --messages 600 --seed ${seed}`,
  );
  assert.equal(report.badServed, 0);
  assert.ok(report.servedMin > 0, "the rest of the data is still served");
});
