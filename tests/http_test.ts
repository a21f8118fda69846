/**
 * The HTTP admin of real `nameserver` and `broker` processes started with `--http-port`: the API,
 * the dashboard's files, `/metrics` as Prometheus text, the DLQ workflow, and token auth when
 * bound off loopback (refusing to start without a token).
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { parsePrometheusText } from "./_prometheus.ts";
import { startRole, tempDir, waitFor } from "./_process.ts";
import { seedBroker } from "./_seed.ts";

const ROOT = new URL("../", import.meta.url);
const TOKEN = "http-test-token-0123456789";

// deno-lint-ignore no-explicit-any
async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return getJson(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

Deno.test("http: a broker process serves the API, the dashboard and /metrics on loopback", async () => {
  const dir = await tempDir("http-broker");
  const broker = await startRole([
    "broker",
    "--port",
    "0",
    "--store",
    dir.path,
    "--http-port",
    "0",
    "--set",
    "mappedFileSizeCommitLog=8388608",
  ]);
  const client = new RemotingClient();
  const base = `http://127.0.0.1:${broker.ready.httpPort}`;
  try {
    assert.match(String(broker.ready.httpAddr), /^127\.0\.0\.1:\d+$/, "loopback by default");
    const seeded = await seedBroker(client, String(broker.ready.addr), { count: 6, deadLetters: 2 });
    assert.deepEqual((await getJson(`${base}/healthz`)).body, { status: "ok", role: "broker" });
    assert.equal((await getJson(`${base}/readyz`)).body.ready, true);
    const topics = await getJson(`${base}/api/topics`);
    assert.deepEqual(topics.body.items.map((t: { topic: string; messages: number }) => [t.topic, t.messages]), [[
      "SeedTopic",
      6,
    ]]);
    const progress = await getJson(`${base}/api/groups/SeedGroup/progress`);
    assert.equal(progress.body.lag, 6);
    const byKey = await getJson(`${base}/api/messages/by-key?topic=SeedTopic&key=key-2`);
    assert.equal(byKey.body[0].body, "body-2");
    const resent = await post(`${base}/api/groups/SeedGroup/dlq/resend`, { msgId: seeded.sent[0].msgId });
    assert.equal(resent.body.outcome, "resent");
    const missing = await getJson(`${base}/api/topics/Nope/stats`);
    assert.deepEqual(missing, {
      status: 404,
      body: { code: 404, name: "NotFound", message: 'Topic "Nope" not found on broker broker-a' },
    });

    const page = await fetch(`${base}/`);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/dashboard\/app\.js">/);
    assert.match(await (await fetch(`${base}/dashboard/app.js`)).text(), /async function route/);
    const openapi = await getJson(`${base}/openapi.json`);
    assert.ok(openapi.body.paths["/api/groups/{group}/dlq/redrive"]);

    const metrics = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    const lag = metrics.get("denomq_consumer_group_lag_messages")!.samples;
    assert.deepEqual(lag.map((s) => [s.labels.group, s.labels.topic, s.value]), [
      ["SeedGroup", "SeedTopic", 6],
    ]);
    assert.equal(metrics.get("denomq_dlq_messages_total")!.samples[0].value, 2);
    assert.equal(metrics.get("denomq_store_flush_wait_seconds")!.type, "histogram");
    const audit = (await Deno.readTextFile(`${dir.path}/audit.log`)).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(audit[0].action, "dlq.resend");
  } finally {
    await client.close();
    assert.equal(await broker.stop(), 0, broker.stderr());
    await dir.remove();
  }
});

Deno.test("http: a NameServer process serves the cluster view, reaching its broker for data and redrives", async () => {
  const dir = await tempDir("http-ns");
  const ns = await startRole(["nameserver", "--port", "0", "--http-port", "0"]);
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
    "mappedFileSizeCommitLog=8388608",
  ]);
  const client = new RemotingClient();
  const base = `http://127.0.0.1:${ns.ready.httpPort}`;
  try {
    await seedBroker(client, String(broker.ready.addr), { count: 4, deadLetters: 2 });
    await waitFor(async () => (await getJson(`${base}/api/topics`)).body.total === 1, 35_000, "the topic's route");
    const cluster = await getJson(`${base}/api/cluster`);
    assert.equal(cluster.body.role, "nameserver");
    assert.equal(cluster.body.brokers[0].addr, broker.ready.addr);
    const groups = await getJson(`${base}/api/groups`);
    assert.deepEqual(groups.body.items.map((g: { group: string; lag: number }) => [g.group, g.lag]), [[
      "SeedGroup",
      4,
    ]]);
    const job = await post(`${base}/api/groups/SeedGroup/dlq/redrive`, { rate: 50 });
    assert.equal(job.status, 202);
    const done = await waitFor(
      async () => {
        const state = (await getJson(`${base}/api/dlq/jobs/${job.body.id}`)).body;
        return state.state !== "running" ? state : undefined;
      },
      10_000,
      "the redrive",
    );
    assert.equal(done.state, "done");
    assert.equal(done.resent, 2);
    const conflict = await post(`${base}/api/topics`, { topic: "bad name" });
    assert.equal(conflict.status, 400);
    const created = await post(`${base}/api/topics`, { topic: "HttpCreated", readQueueNums: 2, writeQueueNums: 2 });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.brokers, [broker.ready.addr]);
    const metrics = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    assert.equal(metrics.get("denomq_nameserver_brokers")!.samples[0].value, 1);
  } finally {
    await client.close();
    assert.equal(await broker.stop(), 0);
    assert.equal(await ns.stop(), 0);
    await dir.remove();
  }
});

Deno.test("http: off loopback a role needs a token — refused without one, then Bearer or a login session", async () => {
  const refused = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-P=nameserver",
      "main.ts",
      "nameserver",
      "--port",
      "0",
      "--http-host",
      "0.0.0.0",
      "--http-port",
      "0",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(refused.code, 2);
  assert.match(
    new TextDecoder().decode(refused.stderr),
    /Refusing to serve the HTTP admin on "0\.0\.0\.0" without a token: set DENOMQ_HTTP_TOKEN or --http-token-file/,
  );

  const ns = await startRole(["nameserver", "--port", "0", "--http-host", "0.0.0.0", "--http-port", "0"], {
    env: { DENOMQ_HTTP_TOKEN: TOKEN },
  });
  const dir = await tempDir("http-token");
  await Deno.writeTextFile(`${dir.path}/token`, `${TOKEN}\n`);
  const broker = await startRole([
    "broker",
    "--port",
    "0",
    "--store",
    `${dir.path}/store`,
    "--http-host",
    "0.0.0.0",
    "--http-port",
    "0",
    "--http-token-file",
    `${dir.path}/token`,
    "--set",
    "mappedFileSizeCommitLog=8388608",
  ]);
  try {
    for (const role of [ns, broker]) {
      const base = `http://127.0.0.1:${role.ready.httpPort}`;
      assert.equal((await getJson(`${base}/api/cluster`)).status, 401);
      assert.equal(await fetch(`${base}/metrics`).then(async (r) => (await r.body?.cancel(), r.status)), 401);
      assert.equal((await getJson(`${base}/healthz`)).status, 200);
      const bearer = await getJson(`${base}/api/cluster`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(bearer.status, 200);
      const login = await fetch(`${base}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: TOKEN }),
      });
      await login.body?.cancel();
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
      assert.equal((await getJson(`${base}/api/cluster`, { headers: { cookie } })).status, 200);
    }
  } finally {
    assert.equal(await broker.stop(), 0);
    assert.equal(await ns.stop(), 0);
    await dir.remove();
  }
});
