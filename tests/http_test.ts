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

Deno.test("http: every documented route answers against a NameServer and a broker process, and fails as documented", async () => {
  const dir = await tempDir("http-routes");
  const ns = await startRole(["nameserver", "--port", "0", "--http-port", "0"]);
  const broker = await startRole([
    "broker",
    "--port",
    "0",
    "-n",
    `127.0.0.1:${ns.ready.port}`,
    "--store",
    dir.path,
    "--set",
    "mappedFileSizeCommitLog=8388608",
  ]);
  const client = new RemotingClient();
  const base = `http://127.0.0.1:${ns.ready.httpPort}`;
  const addr = encodeURIComponent(String(broker.ready.addr));
  try {
    const seeded = await seedBroker(client, String(broker.ready.addr), { count: 4, deadLetters: 2 });
    await waitFor(async () => (await getJson(`${base}/api/topics`)).body.total === 1, 35_000, "the topic's route");
    const m = seeded.sent[1];
    const exercised = new Set<string>();
    const call = async (method: string, template: string, path: string, status: number, body?: unknown) => {
      exercised.add(`${method} ${template}`);
      const response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      assert.equal(response.status, status, `${method} ${path}: ${text}`);
      return text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text;
    };
    await call("GET", "/healthz", "/healthz", 200);
    await call("GET", "/readyz", "/readyz", 200);
    assert.match(await call("GET", "/metrics", "/metrics", 200), /^# HELP /);
    await call("GET", "/openapi.json", "/openapi.json", 200);
    await call("GET", "/api/session", "/api/session", 200);
    await call("POST", "/api/login", "/api/login", 200, { token: "anything: loopback needs none" });
    await call("POST", "/api/logout", "/api/logout", 200, {});
    await call("GET", "/api/cluster", "/api/cluster", 200);
    await call("GET", "/api/brokers/{addr}/runtime", `/api/brokers/${addr}/runtime`, 200);
    await call("GET", "/api/brokers/{addr}/config", `/api/brokers/${addr}/config`, 200);
    await call("PUT", "/api/brokers/{addr}/config", `/api/brokers/${addr}/config`, 200, {
      key: "defaultQueryMaxNum",
      value: "33",
    });
    await call("PUT", "/api/brokers/{addr}/config", `/api/brokers/${addr}/config`, 502, {
      key: "listenPort",
      value: "1",
    });
    await call("GET", "/api/brokers/{addr}/runtime", "/api/brokers/10.0.0.9%3A1/runtime", 404);
    await call("GET", "/api/topics", "/api/topics?kind=normal,dlq&pageSize=5", 200);
    await call("POST", "/api/topics", "/api/topics", 201, { topic: "RouteTopic", readQueueNums: 1, writeQueueNums: 1 });
    await call("POST", "/api/topics", "/api/topics", 400, { topic: "" });
    await call("GET", "/api/topics/{topic}/route", "/api/topics/SeedTopic/route", 200);
    await call("GET", "/api/topics/{topic}/stats", "/api/topics/SeedTopic/stats", 200);
    await call("GET", "/api/topics/{topic}/consumers", "/api/topics/SeedTopic/consumers", 200);
    const browsed = await call("GET", "/api/topics/{topic}/messages", "/api/topics/SeedTopic/messages?queueId=1", 200);
    assert.equal(browsed.messages[0].body, "body-1");
    await call("GET", "/api/topics/{topic}/stats", "/api/topics/NoSuchTopic/stats", 404);
    await call("DELETE", "/api/topics/{topic}", "/api/topics/RouteTopic", 200);
    await call("DELETE", "/api/topics/{topic}", "/api/topics/RouteTopic", 404);
    await call("GET", "/api/groups", "/api/groups?system=true&pageSize=100", 200);
    assert.equal((await call("GET", "/api/groups/{group}/progress", "/api/groups/SeedGroup/progress", 200)).lag, 4);
    await call("GET", "/api/groups/{group}/connections", "/api/groups/SeedGroup/connections?pageSize=1", 200);
    await call("GET", "/api/groups/{group}/connections", "/api/groups/Offline/connections", 409);
    await call("POST", "/api/groups/{group}/reset-offset", "/api/groups/SeedGroup/reset-offset", 200, {
      topic: "SeedTopic",
      timestamp: 0,
    });
    await call("GET", "/api/messages/by-key", "/api/messages/by-key?topic=SeedTopic&key=key-1", 200);
    await call("GET", "/api/messages/by-key", "/api/messages/by-key?topic=SeedTopic&key=none", 404);
    await call("GET", "/api/messages/by-id/{msgId}", `/api/messages/by-id/${m.offsetMsgId}`, 200);
    await call("GET", "/api/messages/by-id/{msgId}", `/api/messages/by-id/${m.msgId}?topic=SeedTopic`, 200);
    await call(
      "GET",
      "/api/messages/by-offset",
      `/api/messages/by-offset?topic=SeedTopic&brokerName=broker-a&queueId=${m.queueId}&offset=${m.queueOffset}`,
      200,
    );
    await call("GET", "/api/messages/by-offset", "/api/messages/by-offset?topic=SeedTopic", 400);
    const dlq = await call("GET", "/api/groups/{group}/dlq", "/api/groups/SeedGroup/dlq", 200);
    await call("POST", "/api/groups/{group}/dlq/resend", "/api/groups/SeedGroup/dlq/resend", 200, {
      msgId: dlq.queues[0].messages[0].msgId,
    });
    await call("POST", "/api/groups/{group}/dlq/resend", "/api/groups/SeedGroup/dlq/resend", 404, {
      msgId: m.offsetMsgId,
    });
    const job = await call("POST", "/api/groups/{group}/dlq/redrive", "/api/groups/SeedGroup/dlq/redrive", 202, {
      rate: 1,
    });
    await call("POST", "/api/groups/{group}/dlq/redrive", "/api/groups/SeedGroup/dlq/redrive", 409, { rate: 1 });
    await call("GET", "/api/dlq/jobs", "/api/dlq/jobs", 200);
    await call("POST", "/api/dlq/jobs/{id}/stop", `/api/dlq/jobs/${job.id}/stop`, 200, {});
    await waitFor(async () =>
      (await call("GET", "/api/dlq/jobs/{id}", `/api/dlq/jobs/${job.id}`, 200)).state !== "running"
    );
    const audit = await call("GET", "/api/audit", "/api/audit", 200);
    assert.ok(audit.some((e: { action: string }) => e.action === "offset.reset"));

    const documented = (await getJson(`${base}/openapi.json`)).body.paths as Record<string, Record<string, unknown>>;
    const all = Object.entries(documented).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)
    );
    assert.deepEqual(all.filter((route) => !exercised.has(route)), [], "documented routes this test did not call");
  } finally {
    await client.close();
    assert.equal(await broker.stop(), 0);
    assert.equal(await ns.stop(), 0);
    await dir.remove();
  }
});
