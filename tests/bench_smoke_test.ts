/**
 * Smoke runs of every `deno task bench` scenario with a few thousand messages, so the bench
 * cannot rot: each must finish, print its JSON line, and account for every message without
 * errors. No timing is asserted (the figures of a loaded test machine mean nothing).
 *
 * @module
 */

import assert from "node:assert/strict";
import { startRole } from "./_process.ts";

const ROOT = new URL("../", import.meta.url);
/** Small segments: a SYNC_FLUSH broker zero-fills its first segment before it is ready. */
const SMALL_STORE = ["--set", "mappedFileSizeCommitLog=8388608"];

interface BenchRowJson {
  system: string;
  scenario: string;
  mode: string;
  messages: number;
  msgsPerSec: number;
  errors: number;
  note?: string;
}

async function bench(args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=bench", "bench/main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `bench ${args.join(" ")} failed:\n${stderr.slice(-3000)}`);
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

async function hasCommand(command: string): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

const SMALL = ["--messages", "2000", "--warmup", "500", "--latency-messages", "200", "--pull-batch", "100"];

Deno.test("bench smoke: produce, consume, e2e and latency, SYNC_FLUSH and ASYNC_FLUSH, each accounts for every message", async () => {
  const report = await bench(["all", ...SMALL, ...SMALL_STORE, "--json"]);
  const rows = report.rows as BenchRowJson[];
  for (const mode of ["ASYNC_FLUSH", "SYNC_FLUSH"]) {
    for (const scenario of ["produce", "consume", "e2e", "latency"]) {
      const row = rows.find((r) => r.system === "denomq" && r.scenario === scenario && r.mode === mode);
      assert.ok(row, `no ${scenario} row for ${mode}`);
      assert.equal(row.errors, 0, `${scenario} ${mode}: ${row.note}`);
      assert.equal(row.messages, scenario === "latency" ? 200 : 2000, `${scenario} ${mode} messages`);
      assert.ok(row.msgsPerSec > 0);
    }
  }
  assert.ok(Array.isArray(report.ratios));
});

Deno.test("bench smoke: the push and raw consumer variants of consume", async () => {
  for (const consumer of ["push", "raw"]) {
    const report = await bench([
      "consume",
      ...SMALL,
      ...SMALL_STORE,
      "--flush",
      "async",
      "--consumer",
      consumer,
      "--json",
    ]);
    const [row] = report.rows as BenchRowJson[];
    assert.equal(row.messages, 2000, consumer);
    assert.match(row.mode, /ASYNC_FLUSH/);
  }
});

Deno.test({
  name: "bench smoke: --peers runs NATS JetStream and Redis next to denomq and prints the ratios",
  // Installing the peers is the bench's job, not the test's: run where they are already installed.
  ignore: !(await hasCommand("nats-server")) || !(await hasCommand("redis-server")) ||
    !(await hasCommand("redis-benchmark")),
  async fn() {
    const report = await bench([
      "produce,consume,latency",
      ...SMALL,
      ...SMALL_STORE,
      "--flush",
      "async",
      "--peers",
      "--json",
    ]);
    const rows = report.rows as BenchRowJson[];
    for (const system of ["nats", "redis"]) {
      for (const scenario of ["produce", "consume", "latency"]) {
        const row = rows.find((r) => r.system === system && r.scenario === scenario);
        assert.ok(row, `no ${system} ${scenario} row`);
        assert.equal(row.errors, 0);
        assert.ok(row.messages >= 200, `${system} ${scenario}: ${row.messages} messages`);
      }
    }
    const names = (report.ratios as { name: string }[]).map((r) => r.name);
    assert.ok(names.includes("produce ASYNC_FLUSH / NATS raw publisher"), names.join(", "));
    assert.ok(names.includes("consume ASYNC_FLUSH / NATS JetStream consume"), names.join(", "));
  },
});

Deno.test("bench smoke: backlog reports RSS by backlog size and the restart time", async () => {
  const report = await bench([
    "backlog",
    "--messages",
    "3000",
    "--topics",
    "20",
    "--segment-bytes",
    "8388608",
    "--json",
  ]);
  assert.equal(report.messages, 3000);
  assert.equal((report.rssByBacklog as unknown[]).length >= 10, true);
  assert.equal(typeof report.restartReadyMs, "number");
});

Deno.test("bench smoke: restart sized in GiB of commit log", async () => {
  const report = await bench(["restart", "--gib", "0.01", "--segment-bytes", "8388608", "--json"]);
  assert.ok((report.commitLogGiB as number) > 0);
  assert.equal(typeof report.restartReadyMs, "number");
});

Deno.test("bench smoke: denomq admin bench drives a running cluster with the admin permission set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomq-bench-smoke-" });
  const dev = await startRole(["dev", "--data", dir, "--namesrv-port", "0", "--broker-port", "0", ...SMALL_STORE]);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-P=admin",
        "main.ts",
        "admin",
        "bench",
        "-n",
        String(dev.ready.namesrvAddr),
        "--scenario",
        "produce,latency",
        "--messages",
        "1000",
        "--warmup",
        "100",
        "--latency-messages",
        "100",
        "--json",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr.slice(-2000));
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    const report = JSON.parse(lines[lines.length - 1]);
    const rows = report.rows as BenchRowJson[];
    assert.deepStrictEqual(rows.map((r) => [r.scenario, r.messages, r.errors]), [["produce", 1000, 0], [
      "latency",
      100,
      0,
    ]]);
    // Starting servers is refused under the admin role.
    const refused = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-P=admin", "main.ts", "admin", "bench", "-n", String(dev.ready.namesrvAddr), "--peers"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(refused.code, 0);
  } finally {
    await dev.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
