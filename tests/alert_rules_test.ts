/**
 * `deploy/prometheus-alerts.yml` is valid YAML in Prometheus's rule-file shape, and every denomq
 * metric its expressions name is one the broker or the NameServer exports.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { createBrokerAdminApp } from "../broker/http.ts";
import { startBroker } from "../broker/mod.ts";
import { MemoryMessageStore } from "../broker/store/mod.ts";
import { renderNameServerMetrics } from "../nameserver/http.ts";
import { startNameServer } from "../nameserver/mod.ts";
import { parsePrometheusText } from "./_prometheus.ts";

Deno.test("alert rules: the example file parses and names only metrics denomq exports", async () => {
  const rules = parse(await Deno.readTextFile(new URL("../deploy/prometheus-alerts.yml", import.meta.url))) as {
    groups: { name: string; rules: { alert: string; expr: string; labels?: Record<string, string> }[] }[];
  };
  const all = rules.groups.flatMap((g) => g.rules);
  assert.ok(all.length >= 10);
  for (const rule of all) {
    assert.match(rule.alert, /^Denomq[A-Za-z]+$/);
    assert.equal(typeof rule.expr, "string");
    assert.ok(["critical", "warning", "info"].includes(rule.labels?.severity ?? ""), rule.alert);
  }

  const dir = await Deno.makeTempDir({ prefix: "denomq-alerts-" });
  const nameServer = startNameServer({ config: { listenPort: 0, listenHost: "127.0.0.1" } });
  const broker = await startBroker({
    config: { listenPort: 0, storePathRootDir: dir, namesrvAddr: "", listenHost: "127.0.0.1" },
    store: new MemoryMessageStore(),
  });
  const admin = createBrokerAdminApp(broker.services, {
    servers: [{ port: "main", server: broker.server }],
    loopback: true,
    auditPath: null,
  });
  try {
    const exported = new Set([
      ...parsePrometheusText(await (await admin.app.request("/metrics")).text()).keys(),
      ...parsePrometheusText(renderNameServerMetrics(nameServer.services, nameServer.server, true)).keys(),
    ]);
    for (const rule of all) {
      for (const name of rule.expr.match(/denomq_[a-z_]+/g) ?? []) {
        const family = name.replace(/_(bucket|sum|count)$/, "");
        assert.ok(exported.has(family), `${rule.alert} uses ${name}, which is not exported`);
      }
    }
  } finally {
    await admin.close();
    await broker.close();
    await nameServer.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
