/**
 * Per-role permission sets (deno.json): each role runs under the narrowest set, and what a set
 * does not grant fails with NotCapable. A probe runs under each set; then the real roles are
 * started with paths their set does not cover and must refuse.
 */

import assert from "node:assert/strict";
import { startRole, tempDir } from "./_process.ts";

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

async function probe(set: string, ops: string[]): Promise<Record<string, string>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", `-P=${set}`, "tests/clients/permission_probe.ts", ...ops],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", NAMESRV_ADDR: "127.0.0.1:9876" },
  }).output();
  assert.equal(output.code, 0, decoder.decode(output.stderr));
  return JSON.parse(decoder.decode(output.stdout));
}

async function run(set: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", `-P=${set}`, "main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: output.code, stderr: decoder.decode(output.stderr) };
}

Deno.test("permissions: nameserver may listen and read ./conf; files elsewhere, writes, other env and subprocesses are NotCapable", async () => {
  const result = await probe("nameserver", [
    "listen:127.0.0.1",
    "read:./conf/namesrv.conf",
    "env:DENOMQ_HTTP_TOKEN",
    "read:./deno.json",
    "read:/etc/hostname",
    "write:./conf/probe",
    "env:HOME",
    "run:true",
    "sys:hostname",
  ]);
  assert.deepEqual(result, {
    "listen:127.0.0.1": "ok",
    "read:./conf/namesrv.conf": "NotFound", // allowed; the file just is not there
    "env:DENOMQ_HTTP_TOKEN": "ok",
    "read:./deno.json": "NotCapable",
    "read:/etc/hostname": "NotCapable",
    "write:./conf/probe": "NotCapable",
    "env:HOME": "NotCapable",
    "run:true": "NotCapable",
    "sys:hostname": "NotCapable",
  });
});

Deno.test("permissions: broker may read and write ./store and read ./conf; other paths and subprocesses are NotCapable", async () => {
  const result = await probe("broker", [
    "listen:0.0.0.0",
    "write:./store/probe",
    "read:./conf/broker.conf",
    "write:./conf/probe",
    "read:./deno.json",
    "write:/tmp/denomq-probe",
    "read:/etc/hostname",
    "run:true",
  ]);
  // Allowed: "ok", or NotFound when ./store does not exist yet (a fresh clone).
  assert.match(result["write:./store/probe"], /^(ok|NotFound)$/);
  delete result["write:./store/probe"];
  assert.deepEqual(result, {
    "listen:0.0.0.0": "ok",
    "read:./conf/broker.conf": "NotFound",
    "write:./conf/probe": "NotCapable",
    "read:./deno.json": "NotCapable",
    "write:/tmp/denomq-probe": "NotCapable",
    "read:/etc/hostname": "NotCapable",
    "run:true": "NotCapable",
  });
});

Deno.test("permissions: admin may only connect — listening on all interfaces, files, env and subprocesses are NotCapable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const result = await probe("admin", [
      `connect:127.0.0.1:${listener.addr.port}`,
      "env:NAMESRV_ADDR",
      "listen:0.0.0.0",
      "read:./conf/x",
      "read:/etc/hostname",
      "write:/tmp/denomq-probe",
      "env:HOME",
      "run:true",
    ]);
    assert.deepEqual(result, {
      [`connect:127.0.0.1:${listener.addr.port}`]: "ok",
      "env:NAMESRV_ADDR": "ok",
      "listen:0.0.0.0": "NotCapable",
      "read:./conf/x": "NotCapable",
      "read:/etc/hostname": "NotCapable",
      "write:/tmp/denomq-probe": "NotCapable",
      "env:HOME": "NotCapable",
      "run:true": "NotCapable",
    });
  } finally {
    listener.close();
  }
});

Deno.test("permissions: the real roles refuse a config or store their set does not cover", async () => {
  const dir = await tempDir("perm");
  try {
    await Deno.writeTextFile(`${dir.path}/namesrv.conf`, "listenPort=0\n");
    const ns = await run("nameserver", ["nameserver", "-c", `${dir.path}/namesrv.conf`]);
    assert.equal(ns.code, 2);
    assert.match(ns.stderr, /Cannot read config file ".*namesrv\.conf": Requires read access/);
    const broker = await run("broker", ["broker", "--port", "0", "--store", `${dir.path}/store`]);
    assert.notEqual(broker.code, 0);
    assert.match(broker.stderr, /NotCapable|Requires (read|write) access/);
    // Granted explicitly (what tests/_process.ts does for every test store), the same broker starts.
    const granted = await startRole([
      "broker",
      "--port",
      "0",
      "--store",
      `${dir.path}/store`,
      "--set",
      "mappedFileSizeCommitLog=8388608",
    ]);
    assert.equal(await granted.stop(), 0);
  } finally {
    await dir.remove();
  }
});
