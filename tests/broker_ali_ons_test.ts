/**
 * Compatibility: the real RocketMQ npm client `ali-ons@3.12.0` against real `nameserver` and
 * `broker` processes. Topics are created with our admin CLI (ali-ons never creates topics).
 */

import assert from "node:assert/strict";
import { startRole, tempDir } from "./_process.ts";

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

async function admin(args: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=admin", "main.ts", "admin", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = decoder.decode(output.stdout);
  assert.equal(output.code, 0, `admin ${args.join(" ")} failed: ${decoder.decode(output.stderr)}`);
  return text;
}

Deno.test("ali-ons: 100 messages with keys and a tag reach a cluster consumer intact; a failed one returns via the retry topic", async () => {
  const dir = await tempDir("ali-ons");
  const ns = await startRole(["nameserver", "--port", "0"]);
  const namesrv = `127.0.0.1:${ns.ready.port}`;
  const broker = await startRole([
    "broker",
    "--port",
    "0",
    "-n",
    namesrv,
    "--store",
    dir.path,
    "--set",
    "mappedFileSizeCommitLog=16777216",
    // Level 3 (the first retry) is 2 s here instead of 10 s, to keep the test short.
    "--set",
    "messageDelayLevel=1s 1s 2s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h",
  ]);
  try {
    await admin(["updateTopic", "-n", namesrv, "-c", "DefaultCluster", "-t", "OnsTopic", "-r", "4", "-w", "4"]);
    // The group's retry topic exists before the consumer starts, so ali-ons knows its route at
    // once instead of on its 30 s route refresh (the broker would also create it at the first heartbeat).
    await admin(["updateTopic", "-n", namesrv, "-c", "DefaultCluster", "-t", "%RETRY%OnsGroup", "-r", "1", "-w", "1"]);
    assert.match(await admin(["topicRoute", "-n", namesrv, "-t", "OnsTopic"]), /broker-a\s+4\s+4\s+6/);

    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tests/clients/ali_ons_roundtrip.ts", namesrv, "OnsTopic", "OnsGroup", "100"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = decoder.decode(run.stdout);
    assert.equal(run.code, 0, decoder.decode(run.stderr));
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      sent: { key: string; status: string; msgId: string }[];
      received: Record<string, { body: string; keys: string; tags: string; reconsumeTimes: number }>;
      deliveries: { key: string; reconsumeTimes: number; retryTopic?: string; topic: string }[];
    };
    assert.equal(result.sent.length, 101);
    for (const s of result.sent) {
      assert.equal(s.status, "SEND_OK", s.key);
      assert.match(s.msgId, /^[0-9A-F]{32}$/);
    }
    for (let n = 1; n <= 100; n++) {
      const got = result.received[`key-${n}`];
      assert.ok(got, `key-${n} was not received`);
      assert.equal(got.body, `payload #${n} ✓`);
      assert.equal(got.tags, "TagA");
      assert.equal(got.keys, `key-${n}`);
    }
    assert.ok(!result.deliveries.some((d) => d.key === "other-tag"), "a TagB message must be filtered out");
    const retried = result.deliveries.filter((d) => d.key === "fail-once");
    assert.equal(retried.length, 2, JSON.stringify(retried));
    assert.equal(retried[0].reconsumeTimes, 0);
    assert.equal(retried[1].reconsumeTimes, 1);
    assert.equal(retried[1].retryTopic, "OnsTopic", "the retried copy carries RETRY_TOPIC");
    assert.equal(retried[1].topic, "OnsTopic", "ali-ons shows the retried copy under the original topic");
    assert.equal(result.received["fail-once"].body, "payload #101 ✓");
  } finally {
    assert.equal(await broker.stop(), 0, broker.stderr());
    assert.equal(await ns.stop(), 0);
    await dir.remove();
  }
});
