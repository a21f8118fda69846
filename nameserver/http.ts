/**
 * The NameServer's HTTP admin: the shared app (`http/app.ts`) over the whole cluster. Cluster,
 * route and topic-list questions run the NameServer's own processor table in-process (a
 * `LocalInvoker`); questions about a broker's data go to that broker over the remoting protocol,
 * bounded by the ops layer's fan-out limits. The NameServer may not write files, so its audit
 * log goes to the log (stderr, category `denomq.audit`).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Hono } from "hono";
import { RemotingClient } from "../client/remoting_client.ts";
import { createAdminApp, type HttpLimits, type ReadyCheck } from "../http/app.ts";
import { isLoopbackHost } from "../http/auth.ts";
import { type Labels, MetricsWriter } from "../http/prometheus.ts";
import { type HttpAdminServer, serveHttpAdmin } from "../http/server.ts";
import { AdminOps, nameServerSource } from "../ops/admin_ops.ts";
import { AuditLog } from "../ops/audit.ts";
import { LOCAL_NAMESERVER, LocalInvoker, remoteInvoker } from "../ops/invoker.ts";
import { CURRENT_VERSION } from "../protocol/command.ts";
import type { ProcessorTable, RemotingServer } from "../remoting/server.ts";
import type { NameServerServices } from "./processors/context.ts";
import { createNameServerProcessors } from "./processors/mod.ts";

/** Options for {@linkcode createNameServerAdminApp}. */
export interface NameServerAdminOptions {
  server: RemotingServer;
  token?: string;
  loopback: boolean;
  /** Brokers served by this same process (`dev`): address → processor table, invoked in-process. */
  localBrokers?: ReadonlyMap<string, ProcessorTable>;
  /** More metrics to append (`dev`: the broker's). */
  extraMetrics?: () => Promise<string>;
  /** More readiness checks (`dev`: the broker's). */
  extraReady?: () => ReadyCheck[];
  limits?: Partial<HttpLimits>;
}

/** The NameServer's app. */
export interface NameServerAdminApp {
  app: Hono;
  ops: AdminOps;
  close(): Promise<void>;
}

/** The NameServer's own metrics; `common` adds `denomq_up` and `denomq_build_info`. */
export function renderNameServerMetrics(s: NameServerServices, server: RemotingServer, common: boolean): string {
  const w = new MetricsWriter();
  const info = s.routes.clusterInfo();
  if (common) {
    w.gauge("denomq_up", "1 while the role serves", [[{ role: "nameserver" }, 1]]);
    w.gauge("denomq_build_info", "Protocol version served (MQVersion ordinal)", [[{ version: CURRENT_VERSION }, 1]]);
  }
  w.gauge(
    "denomq_nameserver_brokers",
    "Brokers registered per cluster (masters and slaves)",
    [...info.clusterAddrTable].map(([cluster, names]): [Labels, number] => [
      { cluster },
      [...names].reduce((n, name) => n + (info.brokerAddrTable.get(name)?.brokerAddrs.size ?? 0), 0),
    ]),
  );
  w.gauge("denomq_nameserver_topics", "Topics with a route", [[undefined, s.routes.allTopics().length]]);
  w.gauge("denomq_nameserver_connections", "Open connections", [[undefined, server.connections.size]]);
  w.counter("denomq_nameserver_connections_accepted_total", "Connections accepted", [[
    undefined,
    server.stats.connectionsAccepted,
  ]]);
  const st = server.stats;
  const refused: [Labels, number][] = [...server.lanes].map((
    [lane, l],
  ) => [{ reason: "lane_full", lane }, l.stats.rejected]);
  refused.push(
    [{ reason: "unsupported_code", lane: "" }, st.unsupportedCodes],
    [{ reason: "bad_frame", lane: "" }, st.framingErrors],
    [{ reason: "handler_error", lane: "" }, st.handlerErrors],
    [{ reason: "slow_consumer", lane: "" }, st.slowConsumerDisconnects],
    [{ reason: "idle", lane: "" }, st.idleDisconnects],
  );
  w.counter("denomq_nameserver_rejected_requests_total", "Requests refused or connections dropped, by reason", refused);
  return w.toString();
}

/** Builds the NameServer's admin app over `services` (the same services its handlers use). */
export function createNameServerAdminApp(
  services: NameServerServices,
  options: NameServerAdminOptions,
): NameServerAdminApp {
  const log = getLogger(["denomq", "http"]);
  const auditLog = getLogger(["denomq", "audit"]);
  const client = new RemotingClient({ timeoutMs: 5000 });
  const tables = new Map<string, ProcessorTable>([[LOCAL_NAMESERVER, createNameServerProcessors(services)]]);
  for (const [addr, table] of options.localBrokers ?? []) tables.set(addr, table);
  const invoker = new LocalInvoker({ tables, fallback: remoteInvoker(client) });
  const ops = new AdminOps({ invoker, source: nameServerSource(invoker, [LOCAL_NAMESERVER]) });
  const audit = new AuditLog({ sink: (entry) => auditLog.info("{action} {target}: {outcome}", { ...entry }) });
  const dev = options.localBrokers !== undefined;
  const { app, close } = createAdminApp({
    role: dev ? "dev" : "nameserver",
    ops,
    audit,
    auth: { token: options.token, loopback: options.loopback },
    metrics: async () =>
      (options.extraMetrics ? await options.extraMetrics() : "") +
      renderNameServerMetrics(services, options.server, !options.extraMetrics),
    ready: () => {
      const brokers = services.routes.clusterInfo().brokerAddrTable.size;
      return Promise.resolve([
        {
          name: "route_table",
          ok: true,
          detail: `${brokers} broker(s), ${services.routes.allTopics().length} topic(s)`,
        },
        ...(options.extraReady?.() ?? []),
      ]);
    },
    limits: options.limits,
    log: (error) =>
      log.error("HTTP admin request failed: {error}", { error: (error as Error)?.stack ?? String(error) }),
  });
  return {
    app,
    ops,
    async close() {
      await close();
      await client.close();
    },
  };
}

/** Where to serve the NameServer's HTTP admin. */
export interface NameServerHttpOptions {
  /** Default 127.0.0.1. */
  hostname?: string;
  port: number;
  token?: string;
  localBrokers?: ReadonlyMap<string, ProcessorTable>;
  extraMetrics?: () => Promise<string>;
  extraReady?: () => ReadyCheck[];
}

/** Serves the NameServer's HTTP admin. */
export function startNameServerHttp(
  nameServer: { services: NameServerServices; server: RemotingServer },
  options: NameServerHttpOptions,
): HttpAdminServer & { admin: NameServerAdminApp } {
  const hostname = options.hostname ?? "127.0.0.1";
  const admin = createNameServerAdminApp(nameServer.services, {
    server: nameServer.server,
    token: options.token,
    loopback: isLoopbackHost(hostname),
    localBrokers: options.localBrokers,
    extraMetrics: options.extraMetrics,
    extraReady: options.extraReady,
  });
  const server = serveHttpAdmin(admin.app, { hostname, port: options.port });
  return {
    ...server,
    admin,
    async close() {
      await admin.close();
      await server.close();
    },
  };
}
