/**
 * The CLI: `dev` (what `deno task start` runs), broker config errors, and admin exit codes.
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { createRequest } from "../protocol/command.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { startRole, tempDir, waitFor } from "./_process.ts";
import { sendV2 } from "./_wire.ts";

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

async function run(set: string, args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", `-P=${set}`, "main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

Deno.test("dev: NameServer and broker in one process serve a produce/route round trip and stop cleanly", async () => {
  const dir = await tempDir("dev");
  const dev = await startRole(
    [
      "dev",
      "--data",
      dir.path,
      "--namesrv-port",
      "0",
      "--broker-port",
      "0",
      "--set",
      "mappedFileSizeCommitLog=8388608",
    ],
  );
  const client = new RemotingClient();
  try {
    const namesrv = String(dev.ready.namesrvAddr);
    const brokerAddr = String(dev.ready.brokerAddr);
    assert.equal((await sendV2(client, brokerAddr, { topic: "DevTopic", body: "hi" })).code, ResponseCode.SUCCESS);
    await waitFor(
      async () => {
        const r = await client.invoke(namesrv, {
          ...createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "DevTopic" }),
          version: 409,
        });
        return r.code === ResponseCode.SUCCESS;
      },
      5000,
      "route of the auto-created topic",
    );
    const list = await run("admin", ["admin", "clusterList", "-n", namesrv, "--json"]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), [{
      cluster: "DefaultCluster",
      brokerName: "broker-a",
      brokerId: 0,
      addr: brokerAddr,
    }]);
  } finally {
    await client.close();
    assert.equal(await dev.stop(), 0);
    await dir.remove();
  }
});

Deno.test("broker: a bad config value stops the start with the key, the value and the expected form", async () => {
  const bad = await run("broker", ["broker", "--port", "0", "--set", "flushDiskType=SOMETIMES"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Invalid value for "flushDiskType": "SOMETIMES", expected one of ASYNC_FLUSH, SYNC_FLUSH/);
  const badNumber = await run("broker", ["broker", "--port", "0", "--set", "maxMessageSize=lots"]);
  assert.equal(badNumber.code, 2);
  assert.match(badNumber.stderr, /Invalid value for "maxMessageSize": "lots", expected an integer/);
  const dir = await tempDir("conf");
  await Deno.writeTextFile(
    `${dir.path}/broker.conf`,
    "brokerName=broker-z\nnoSuchKey=1\nsendMessageThreadPoolNums=4\n",
  );
  const broker = await startRole([
    "broker",
    "--port",
    "0",
    "-c",
    `${dir.path}/broker.conf`,
    "--store",
    `${dir.path}/store`,
    "--set",
    "mappedFileSizeCommitLog=8388608",
  ]);
  try {
    assert.equal(broker.ready.brokerName, "broker-z");
    assert.match(broker.stderr(), /unknown broker.conf key "noSuchKey" ignored/);
    assert.doesNotMatch(broker.stderr(), /sendMessageThreadPoolNums/, "known RocketMQ keys are accepted quietly");
  } finally {
    assert.equal(await broker.stop(), 0);
    await dir.remove();
  }
});

Deno.test("admin: --help, unknown subcommands and unreachable NameServers", async () => {
  const help = await run("admin", ["admin", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /clusterList/);
  const unknown = await run("admin", ["admin", "noSuchCommand"]);
  assert.equal(unknown.code, 2);
  const down = await run("admin", ["admin", "clusterList", "-n", "127.0.0.1:1"]);
  assert.equal(down.code, 1);
  // Deno itself may print a warning line about config-file permissions first; ours is one line.
  const ours = down.stderr.trim().split("\n").filter((line) => line.startsWith("denomq"));
  assert.equal(ours.length, 1, down.stderr);
  assert.match(ours[0], /^denomq admin clusterList: .*127\.0\.0\.1:1/);
  const missing = await run("admin", ["admin", "topicRoute"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Missing -t <topic>/);
});
