/**
 * The NameServer's HTTP admin through `app.request()`: cluster and routes from its own route
 * table (in-process), broker data fetched from an in-process broker over TCP.
 */

import assert from "node:assert/strict";
import { startBroker } from "../broker/mod.ts";
import { MemoryMessageStore } from "../broker/store/mod.ts";
import { RemotingClient } from "../client/remoting_client.ts";
import { parsePrometheusText } from "../tests/_prometheus.ts";
import { seedBroker } from "../tests/_seed.ts";
import { createNameServerAdminApp } from "./http.ts";
import { startNameServer } from "./mod.ts";

Deno.test("createNameServerAdminApp: the cluster view reaches the routed broker, pages its topics and groups, deletes a topic's routes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomq-ns-http-" });
  const nameServer = startNameServer({ config: { listenPort: 0, listenHost: "127.0.0.1" } });
  const broker = await startBroker({
    config: {
      listenPort: 0,
      listenHost: "127.0.0.1",
      storePathRootDir: dir,
      namesrvAddr: `127.0.0.1:${nameServer.port}`,
    },
    store: new MemoryMessageStore(),
  });
  const client = new RemotingClient();
  const admin = createNameServerAdminApp(nameServer.services, { server: nameServer.server, loopback: true });
  const get = async (path: string, init?: RequestInit) => {
    const response = await admin.app.request(path, init);
    return { status: response.status, body: await response.json() };
  };
  try {
    await seedBroker(client, broker.addr, { count: 4, deadLetters: 1 });
    await broker.services.registerSoon();
    for (let i = 0; i < 100 && !nameServer.routes.routeOf("SeedTopic"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const cluster = await get("/api/cluster");
    assert.equal(cluster.body.role, "nameserver");
    assert.deepEqual(cluster.body.brokers.map((b: { addr: string }) => b.addr), [broker.addr]);
    assert.equal(cluster.body.brokers[0].version, "V4_9_7", "runtime info fetched from the broker");
    const topics = await get("/api/topics");
    assert.deepEqual(topics.body.items.map((t: { topic: string }) => t.topic), ["SeedTopic"]);
    assert.equal(topics.body.items[0].messages, 4);
    const groups = await get("/api/groups?filter=Seed");
    assert.equal(groups.body.items[0].lag, 4);
    assert.equal(groups.body.items[0].online, 1);
    assert.equal((await get("/api/groups/SeedGroup/dlq")).body.total, 1);
    assert.equal((await get("/api/topics/SeedTopic/route")).body.queueDatas[0].writeQueueNums, 4);
    const deleted = await get("/api/topics/SeedTopic", { method: "DELETE" });
    assert.deepEqual(deleted.body, { topic: "SeedTopic", brokers: [broker.addr] });
    assert.equal(nameServer.routes.routeOf("SeedTopic"), undefined);
    assert.equal((await get("/api/topics/SeedTopic/stats")).status, 404);
    const metrics = parsePrometheusText(await (await admin.app.request("/metrics")).text());
    assert.equal(metrics.get("denomq_nameserver_brokers")?.samples[0].value, 1);
    assert.equal(metrics.get("denomq_up")?.samples[0].labels.role, "nameserver");
  } finally {
    await admin.close();
    await client.close();
    await broker.close();
    await nameServer.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
