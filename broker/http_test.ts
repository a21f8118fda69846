/**
 * The broker's HTTP admin through `app.request()`: an in-process broker on the memory store,
 * seeded over TCP, and every route answered from its services (no HTTP socket).
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { parsePrometheusText } from "../tests/_prometheus.ts";
import { seedBroker, type Seeded } from "../tests/_seed.ts";
import { heartbeat } from "../tests/_wire.ts";
import { type BrokerAdminApp, createBrokerAdminApp } from "./http.ts";
import { type Broker, startBroker } from "./mod.ts";
import { MemoryMessageStore } from "./store/mod.ts";

/** A parsed JSON answer; the assertions check its shape. */
// deno-lint-ignore no-explicit-any
type Json = any;

interface Fixture {
  broker: Broker;
  admin: BrokerAdminApp;
  client: RemotingClient;
  seeded: Seeded;
  dir: string;
  get(path: string, init?: RequestInit): Promise<{ status: number; body: Json }>;
  send(method: string, path: string, body: unknown): Promise<{ status: number; body: Json }>;
  close(): Promise<void>;
}

async function fixture(options: { token?: string; loopback?: boolean } = {}): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "denomq-broker-http-" });
  const broker = await startBroker({
    config: { listenPort: 0, storePathRootDir: dir, namesrvAddr: "", listenHost: "127.0.0.1" },
    store: new MemoryMessageStore(),
  });
  const client = new RemotingClient();
  const seeded = await seedBroker(client, broker.addr, { count: 8, deadLetters: 3 });
  const admin = createBrokerAdminApp(broker.services, {
    servers: [{ port: "main", server: broker.server }],
    token: options.token,
    loopback: options.loopback ?? true,
    auditPath: `${dir}/audit.log`,
    limits: { resendsPerSecond: 2 },
  });
  const request = async (path: string, init?: RequestInit) => {
    const response = await admin.app.request(path, init);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch { /* text */ }
    return { status: response.status, body: body as Json };
  };
  return {
    broker,
    admin,
    client,
    seeded,
    dir,
    get: request,
    send: (method, path, body) =>
      request(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    async close() {
      await admin.close();
      await client.close();
      await broker.close();
      // Config writers may still be finishing a write started before close.
      for (let attempt = 0;; attempt++) {
        try {
          await Deno.remove(dir, { recursive: true });
          break;
        } catch (error) {
          if (attempt >= 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
  };
}

function assertError(result: { status: number; body: Json }, status: number, name?: string): void {
  assert.equal(result.status, status, JSON.stringify(result.body));
  assert.equal(result.body.code, status);
  assert.equal(typeof result.body.message, "string");
  if (name) assert.equal(result.body.name, name);
}

Deno.test("createBrokerAdminApp: health, readiness, cluster, runtime info and config answer from the broker's services", async () => {
  const f = await fixture();
  try {
    assert.deepEqual((await f.get("/healthz")).body, { status: "ok", role: "broker" });
    const ready = await f.get("/readyz");
    assert.equal(ready.status, 200);
    assert.ok(ready.body.checks.every((c: { ok: boolean }) => c.ok));
    const cluster = await f.get("/api/cluster");
    assert.equal(cluster.body.brokers.length, 1);
    assert.equal(cluster.body.brokers[0].brokerName, "broker-a");
    assert.equal(cluster.body.brokers[0].addr, f.broker.addr);
    assert.equal(cluster.body.brokers[0].msgPutTotalTodayNow, 11, "8 sent and 3 moved to the DLQ");
    const addr = encodeURIComponent(f.broker.addr);
    assert.equal((await f.get(`/api/brokers/${addr}/runtime`)).body.brokerVersionDesc, "V4_9_7");
    assert.equal((await f.get(`/api/brokers/${addr}/config`)).body.brokerName, "broker-a");
    const changed = await f.send("PUT", `/api/brokers/${addr}/config`, { key: "defaultQueryMaxNum", value: "40" });
    assert.equal(changed.status, 200);
    assert.equal(f.broker.services.config.defaultQueryMaxNum, 40);
    assertError(
      await f.send("PUT", `/api/brokers/${addr}/config`, { key: "brokerName", value: "x" }),
      502,
      "SYSTEM_ERROR",
    );
    assertError(await f.get(`/api/brokers/${encodeURIComponent("10.9.9.9:1")}/config`), 404, "NotFound");
  } finally {
    await f.close();
  }
});

Deno.test("createBrokerAdminApp: topics are created, paged by kind, inspected and deleted; bad input is 400/404", async () => {
  const f = await fixture();
  try {
    const created = await f.send("POST", "/api/topics", { topic: "HttpTopic", readQueueNums: 2, writeQueueNums: 2 });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.brokers, [f.broker.addr]);
    const page = await f.get("/api/topics?pageSize=1&page=1");
    assert.equal(page.body.total, 2, "normal topics: SeedTopic and HttpTopic");
    assert.equal(page.body.items.length, 1);
    assert.equal(page.body.items[0].topic, "HttpTopic");
    const seed = (await f.get("/api/topics?filter=seed")).body.items[0];
    assert.equal(seed.topic, "SeedTopic");
    assert.equal(seed.messages, 8);
    assert.equal(seed.writeQueueNums, 4);
    const dlq = await f.get("/api/topics?kind=dlq");
    assert.deepEqual(dlq.body.items.map((t: { topic: string }) => t.topic), ["%DLQ%SeedGroup"]);
    const system = await f.get("/api/topics?kind=system&pageSize=100");
    assert.ok(system.body.items.some((t: { topic: string }) => t.topic === "TBW102"));
    const stats = await f.get("/api/topics/SeedTopic/stats");
    assert.equal(stats.body.length, 4);
    assert.equal(stats.body.reduce((n: number, q: { maxOffset: number }) => n + q.maxOffset, 0), 8);
    const route = await f.get("/api/topics/SeedTopic/route");
    assert.equal(route.body.brokerDatas[0].brokerAddrs["0"], f.broker.addr);
    assert.deepEqual((await f.get("/api/topics/SeedTopic/consumers")).body, ["SeedGroup"]);
    const browse = await f.get("/api/topics/SeedTopic/messages?queueId=1&offset=0&max=5");
    assert.equal(browse.body.status, "FOUND");
    assert.deepEqual(browse.body.messages.map((m: { body: string }) => m.body), ["body-1", "body-5"]);
    const deleted = await f.send("DELETE", "/api/topics/HttpTopic", undefined);
    assert.equal(deleted.status, 200);
    assertError(await f.get("/api/topics/HttpTopic/stats"), 404, "NotFound");
    assertError(await f.send("POST", "/api/topics", { topic: "bad topic!" }), 400, "InvalidArgument");
    assertError(await f.send("POST", "/api/topics", { topic: "T", readQueueNums: 5000 }), 400, "InvalidArgument");
    assertError(await f.get("/api/topics?pageSize=1000"), 400, "InvalidArgument");
    assertError(await f.get("/api/topics?kind=weird"), 400, "InvalidArgument");
    assertError(await f.get("/api/topics?page=x"), 400, "InvalidArgument");
  } finally {
    await f.close();
  }
});

Deno.test("createBrokerAdminApp: a group's page, progress with lag in messages and seconds, clients and offset reset", async () => {
  const f = await fixture();
  try {
    await new Promise((resolve) => setTimeout(resolve, 250)); // the oldest unconsumed message ages
    const groups = await f.get("/api/groups?filter=Seed");
    assert.equal(groups.body.total, 1);
    const g = groups.body.items[0];
    assert.equal(g.group, "SeedGroup");
    assert.equal(g.online, 1);
    assert.equal(g.lag, 8);
    assert.ok(g.lagSecondsMax >= 0.1, `lag seconds ${g.lagSecondsMax}`);
    const progress = await f.get("/api/groups/SeedGroup/progress?topic=SeedTopic");
    assert.equal(progress.body.lag, 8);
    assert.equal(progress.body.queues.length, 4);
    for (const q of progress.body.queues) {
      assert.equal(q.brokerOffset - q.consumerOffset, q.lag);
      assert.ok(q.lagSeconds > 0);
    }
    const clients = await f.get("/api/groups/SeedGroup/connections");
    assert.equal(clients.body.total, 1);
    assert.equal(clients.body.connections[0].clientId, "seed-client@1");
    assert.deepEqual(clients.body.subscriptions.map((s: { topic: string }) => s.topic), ["SeedTopic"]);
    const reset = await f.send("POST", "/api/groups/SeedGroup/reset-offset", {
      topic: "SeedTopic",
      timestamp: Date.now() + 60_000,
    });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.equal(reset.body.queues.length, 4);
    // RocketMQ's search answers the last message for a time after it: each queue is one behind.
    const after = await f.get("/api/groups/SeedGroup/progress");
    assert.equal(after.body.lag, 4, JSON.stringify(after.body.queues));
    assertError(await f.get("/api/groups/NoSuchGroup/progress"), 404, "NotFound");
    assertError(await f.get("/api/groups/NoSuchGroup/connections"), 409, "CONSUMER_NOT_ONLINE");
    assertError(await f.send("POST", "/api/groups/SeedGroup/reset-offset", { timestamp: 0 }), 400);
  } finally {
    await f.close();
  }
});

Deno.test("createBrokerAdminApp: messages by key, by offsetMsgId, by client id and by queue offset; misses are 404", async () => {
  const f = await fixture();
  try {
    const byKey = await f.get("/api/messages/by-key?topic=SeedTopic&key=key-3");
    assert.equal(byKey.body.length, 1);
    assert.equal(byKey.body[0].body, "body-3");
    assert.equal(byKey.body[0].tags, "TagA");
    const message = f.seeded.sent[3];
    const byId = await f.get(`/api/messages/by-id/${message.offsetMsgId}`);
    assert.equal(byId.body.msgId, message.msgId);
    assert.equal(byId.body.keys, "key-3");
    const byClientId = await f.get(`/api/messages/by-id/${message.msgId}?topic=SeedTopic`);
    assert.equal(byClientId.body.offsetMsgId, message.offsetMsgId);
    const byOffset = await f.get(
      `/api/messages/by-offset?topic=SeedTopic&brokerName=broker-a&queueId=${message.queueId}&offset=${message.queueOffset}`,
    );
    assert.equal(byOffset.body.body, "body-3");
    assertError(await f.get("/api/messages/by-key?topic=SeedTopic&key=nope"), 404, "NotFound");
    assertError(await f.get("/api/messages/by-key?topic=SeedTopic"), 400, "InvalidArgument");
    assertError(await f.get("/api/messages/by-id/zz"), 400, "InvalidArgument");
    assertError(await f.get(`/api/messages/by-id/${"0".repeat(32)}`), 404, "NotFound");
    assertError(await f.get("/api/messages/by-offset?topic=SeedTopic&brokerName=broker-a&queueId=0&offset=99"), 404);
  } finally {
    await f.close();
  }
});

Deno.test("createBrokerAdminApp: DLQ browse, a rate-limited resend, a redrive job, each outcome in the audit file", async () => {
  const f = await fixture();
  try {
    const page = await f.get("/api/groups/SeedGroup/dlq");
    assert.equal(page.body.total, 3);
    const letters = page.body.queues[0].messages;
    assert.equal(letters.length, 3);
    assert.equal(letters[0].properties.RETRY_TOPIC, "SeedTopic");
    const resent = await f.send("POST", "/api/groups/SeedGroup/dlq/resend", { msgId: letters[0].msgId });
    assert.equal(resent.status, 200, JSON.stringify(resent.body));
    assert.equal(resent.body.outcome, "resent");
    assert.equal(resent.body.msgId, f.seeded.sent[0].msgId, "the client id is kept");
    // Two resends a second are allowed here; the third at once is refused.
    await f.send("POST", "/api/groups/SeedGroup/dlq/resend", { msgId: letters[1].msgId });
    const limited = await f.send("POST", "/api/groups/SeedGroup/dlq/resend", { msgId: letters[1].msgId });
    assertError(limited, 429, "RateLimited");
    const job = await f.send("POST", "/api/groups/SeedGroup/dlq/redrive", { rate: 100, max: 10 });
    assert.equal(job.status, 202);
    let state = job.body;
    for (let i = 0; i < 100 && state.state === "running"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      state = (await f.get(`/api/dlq/jobs/${job.body.id}`)).body;
    }
    assert.equal(state.state, "done");
    assert.equal(state.resent, 3);
    const again = await f.send("POST", "/api/groups/SeedGroup/dlq/redrive", { rate: 100 });
    for (let i = 0; i < 100 && (await f.get(`/api/dlq/jobs/${again.body.id}`)).body.state === "running"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await f.get(`/api/dlq/jobs/${again.body.id}`)).body.resent, 0, "a second redrive resumes at the end");
    const retry = await f.get("/api/topics/%25RETRY%25SeedGroup/stats");
    assert.equal(retry.body.reduce((n: number, q: { maxOffset: number }) => n + q.maxOffset, 0), 5);
    const audit = await f.get("/api/audit");
    assert.ok(
      audit.body.some((e: { action: string; outcome: string }) => e.action === "dlq.resend" && e.outcome === "ok"),
    );
    const lines = (await Deno.readTextFile(`${f.dir}/audit.log`)).trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.filter((e) => e.action === "dlq.redrive.message").length === 3);
    assert.equal(lines[0].actor, "http:loopback");
    assertError(await f.get("/api/groups/NoSuchGroup/dlq"), 404, "NotFound");
    assertError(await f.send("POST", "/api/groups/SeedGroup/dlq/redrive", { rate: 5000 }), 400, "InvalidArgument");
    assertError(await f.get("/api/dlq/jobs/999"), 404, "NotFound");
  } finally {
    await f.close();
  }
});

Deno.test("createBrokerAdminApp: /metrics parses as Prometheus text with puts, lag, store and refusal families", async () => {
  const f = await fixture();
  try {
    const response = await f.admin.app.request("/metrics");
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await response.text());
    const value = (name: string, labels: Record<string, string>) =>
      families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.equal(families.get("denomq_topic_put_messages_total")?.type, "counter");
    assert.equal(value("denomq_topic_put_messages_total", { topic: "SeedTopic" }), 8);
    assert.equal(value("denomq_consumer_lag_messages", { group: "SeedGroup", topic: "SeedTopic", queue: "0" }), 2);
    assert.equal(value("denomq_consumer_group_lag_messages", { group: "SeedGroup", topic: "SeedTopic" }), 8);
    assert.ok(value("denomq_consumer_lag_seconds", { group: "SeedGroup", topic: "SeedTopic", queue: "0" })! >= 0);
    assert.equal(value("denomq_dlq_messages_total", {}), 3);
    assert.ok(value("denomq_commitlog_size_bytes", {})! > 0);
    assert.equal(families.get("denomq_store_flush_wait_seconds")?.type, "histogram");
    assert.equal(value("denomq_store_fenced", {}), 0);
    assert.equal(value("denomq_connections", { port: "main" }), 1);
    assert.ok(families.get("denomq_rejected_requests_total")!.samples.some((s) => s.labels.reason === "lane_full"));
  } finally {
    await f.close();
  }
});

Deno.test("createBrokerAdminApp: with a token, API calls need the bearer token and probes stay open", async () => {
  const token = "s3cret-token-0123456789";
  const f = await fixture({ token, loopback: false });
  try {
    assertError(await f.get("/api/cluster"), 401, "Unauthorized");
    assertError(await f.get("/metrics"), 401, "Unauthorized");
    assertError(await f.get("/api/cluster", { headers: { authorization: "Bearer wrong-token-xxxxxxxx" } }), 401);
    assert.equal((await f.get("/api/cluster", { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await f.get("/healthz")).status, 200);
    assert.equal((await f.get("/readyz")).status, 200);
    assert.equal((await f.get("/")).status, 200, "the dashboard page itself holds no data");
    assert.deepEqual((await f.get("/api/session")).body, { role: "broker", authRequired: true, authenticated: false });
  } finally {
    await f.close();
  }
});

Deno.test("createBrokerAdminApp: with 1,000 topics and 2,000 online groups, pages stay small and fast", async () => {
  const f = await fixture();
  try {
    const s = f.broker.services;
    for (let i = 0; i < 1000; i++) {
      s.topics.upsert({
        topicName: `Scale${String(i).padStart(4, "0")}`,
        readQueueNums: 4,
        writeQueueNums: 4,
        perm: 6,
        topicFilterType: "SINGLE_TAG",
        topicSysFlag: 0,
        order: false,
      });
    }
    // 2,000 groups, each online through one heartbeat on the seed connection and committed on a topic.
    const groups = Array.from({ length: 2000 }, (_, i) => `ScaleGroup${String(i).padStart(4, "0")}`);
    for (let i = 0; i < groups.length; i += 200) {
      const batch = groups.slice(i, i + 200);
      const request = heartbeatMany(`scale-client@${i}`, batch, "Scale0001");
      assert.equal((await f.client.invoke(f.broker.addr, request)).code, 0);
      for (const g of batch) s.offsets.commit(g, "Scale0001", 0, 0);
    }
    const timed = async (path: string) => {
      const started = performance.now();
      const result = await f.get(path);
      return { ...result, ms: performance.now() - started };
    };
    const topics = await timed("/api/topics?page=40&pageSize=25");
    assert.equal(topics.body.total, 1001);
    assert.equal(topics.body.items.length, 25);
    assert.ok(topics.ms < 2000, `a topic page took ${topics.ms} ms`);
    const page = await timed("/api/groups?page=80&pageSize=25");
    assert.equal(page.body.total, 2001);
    assert.equal(page.body.items.length, 25);
    assert.ok(page.body.items.every((g: { online: number }) => g.online === 1));
    assert.ok(page.ms < 2000, `a group page took ${page.ms} ms`);
    const metrics = await timed("/metrics");
    assert.ok(metrics.ms < 2000, `/metrics took ${metrics.ms} ms`);
    assertError(await f.get("/api/groups?pageSize=101"), 400, "InvalidArgument");
  } finally {
    await f.close();
  }
});

function heartbeatMany(clientId: string, groups: string[], topic: string) {
  const request = heartbeat(clientId, groups[0], [topic]);
  const body = JSON.parse(new TextDecoder().decode(request.body));
  body.consumerDataSet = groups.map((g) => ({ ...body.consumerDataSet[0], groupName: g }));
  request.body = new TextEncoder().encode(JSON.stringify(body));
  return request;
}
