/**
 * The client must run under Node 20 as well as Deno: no `Deno.*` outside `_transport.ts`, which
 * picks `node:net` when there is no `Deno` global. This test bundles `mod.ts` (deno bundle),
 * checks the bundle for Deno API use, and, when `node` is installed and
 * `DENOMQ_REFERENCE_NAMESRV` names a running NameServer, runs a produce/consume round trip
 * under Node.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";

const MOD = new URL("./mod.ts", import.meta.url).pathname;
const nameServer = process.env.DENOMQ_REFERENCE_NAMESRV;

async function bundle(dir: string): Promise<string> {
  const out = `${dir}/client.mjs`;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "browser", "--format", "esm", "-o", out, MOD],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return out;
}

function nodeAvailable(): boolean {
  try {
    return new Deno.Command("node", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const ROUND_TRIP = `
import { Producer, PushConsumer } from "./client.mjs";
const nameServer = process.argv[2];
const topic = "NodeCompat_" + Date.now();
const producer = new Producer({ nameServer });
const sent = [];
for (let i = 0; i < 5; i++) sent.push((await producer.send({ topic, body: "x".repeat(i === 3 ? 5000 : 3) + i, tags: "T" })).msgId);
const consumer = new PushConsumer({ nameServer, group: "node-compat-" + Date.now(), consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
consumer.subscribe(topic, "T");
await consumer.start();
const got = new Set();
const deadline = Date.now() + 20000;
for await (const message of consumer) {
  got.add(message.msgId);
  if (sent.every((id) => got.has(id)) || Date.now() > deadline) break;
}
await consumer.shutdown();
await producer.shutdown();
console.log(JSON.stringify({ sent: sent.length, received: sent.filter((id) => got.has(id)).length }));
`;

Deno.test("client bundle uses no Deno API", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomq-client-bundle-" });
  try {
    const text = await Deno.readTextFile(await bundle(dir));
    assert.deepEqual(text.match(/\bDeno\.[A-Za-z]+/g) ?? [], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "client bundle produces and consumes under Node",
  ignore: !nameServer || !nodeAvailable(),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "denomq-client-node-" });
    try {
      await bundle(dir);
      await Deno.writeTextFile(`${dir}/round_trip.mjs`, ROUND_TRIP);
      const { code, stdout, stderr } = await new Deno.Command("node", {
        args: ["round_trip.mjs", nameServer!],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const result = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
      assert.deepEqual(result, { sent: 5, received: 5 });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
