/**
 * The broker's HTTP admin: the shared app (`http/app.ts`) over this broker's own services. Admin
 * operations run the broker's processor table in-process (a `LocalInvoker`, no socket), so the
 * API answers exactly as the request codes do; only deleting a topic's routes reaches out, to
 * the NameServers. Metrics come from the services directly (`metrics.ts`); the audit log is a
 * JSON-lines file in the store root.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { RemotingClient } from "../client/remoting_client.ts";
import { createAdminApp, type HttpLimits, type ReadyCheck } from "../http/app.ts";
import { isLoopbackHost } from "../http/auth.ts";
import { type HttpAdminServer, serveHttpAdmin } from "../http/server.ts";
import { AdminOps, type ClusterSource } from "../ops/admin_ops.ts";
import { AuditLog, fileAuditSink } from "../ops/audit.ts";
import { NotFoundError } from "../ops/errors.ts";
import { LocalInvoker, remoteInvoker } from "../ops/invoker.ts";
import type { ClusterInfo, TopicRouteData } from "../protocol/bodies.ts";
import { createRequest } from "../protocol/command.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import type { Hono } from "hono";
import type { RemotingServer } from "../remoting/server.ts";
import { BrokerMetrics } from "./metrics.ts";
import type { BrokerServices } from "./processors/context.ts";
import { createBrokerProcessors } from "./processors/mod.ts";

/** Options for {@linkcode createBrokerAdminApp}. */
export interface BrokerAdminOptions {
  /** The broker's main and VIP servers, for connection and refusal metrics. */
  servers: { port: string; server: RemotingServer }[];
  /** Bearer token; required unless `loopback`. */
  token?: string;
  /** The HTTP server is bound to loopback. */
  loopback: boolean;
  /** Audit file; default `<storePathRootDir>/audit.log`. `null`: memory only. */
  auditPath?: string | null;
  limits?: Partial<HttpLimits>;
}

/** The broker's app and what to stop with it. */
export interface BrokerAdminApp {
  app: Hono;
  ops: AdminOps;
  metrics: BrokerMetrics;
  close(): Promise<void>;
}

/** This broker as the whole cluster: routes from its own topic table. */
function brokerSource(s: BrokerServices, client: RemotingClient): ClusterSource {
  const nameServers = () => s.config.namesrvAddr.split(";").map((a) => a.trim()).filter(Boolean);
  return {
    clusterInfo(): Promise<ClusterInfo> {
      const { brokerClusterName: cluster, brokerName, brokerId } = s.config;
      return Promise.resolve({
        brokerAddrTable: new Map([[brokerName, {
          cluster,
          brokerName,
          brokerAddrs: new Map([[brokerId, s.brokerAddr]]),
        }]]),
        clusterAddrTable: new Map([[cluster, new Set([brokerName])]]),
      });
    },
    topicRoute(topic): Promise<TopicRouteData> {
      const config = s.topics.get(topic);
      if (!config) {
        return Promise.reject(new NotFoundError(`Topic "${topic}" not found on broker ${s.config.brokerName}`));
      }
      return Promise.resolve({
        queueDatas: [{
          brokerName: s.config.brokerName,
          readQueueNums: config.readQueueNums,
          writeQueueNums: config.writeQueueNums,
          perm: config.perm & s.config.brokerPermission,
          topicSysFlag: config.topicSysFlag,
        }],
        brokerDatas: [{
          cluster: s.config.brokerClusterName,
          brokerName: s.config.brokerName,
          brokerAddrs: new Map([[s.config.brokerId, s.brokerAddr]]),
        }],
        filterServerTable: new Map(),
      });
    },
    topicNames(): Promise<string[]> {
      return Promise.resolve([...s.topics.all()].map((t) => t.topicName));
    },
    async deleteTopicRoutes(topic): Promise<void> {
      for (const addr of nameServers()) {
        const response = await client.invoke(addr, createRequest(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic }), 5000);
        if (response.code !== ResponseCode.SUCCESS) {
          throw new Error(`DELETE_TOPIC_IN_NAMESRV to ${addr} failed: ${response.remark ?? response.code}`);
        }
      }
    },
  };
}

/** Readiness of a broker: its store takes writes. */
export function brokerReadyChecks(s: BrokerServices): ReadyCheck[] {
  const info = s.store.runtimeInfo();
  return [
    { name: "store_writable", ok: !info.fenced, detail: info.fenced ? `fenced: ${info.fenceReason}` : "ok" },
    { name: "disk_space", ok: !info.diskFull, detail: info.diskFull ? "disk full: puts refused" : "ok" },
    {
      name: "broker_writable",
      ok: (s.config.brokerPermission & 2) !== 0,
      detail: (s.config.brokerPermission & 2) !== 0
        ? "ok"
        : `brokerPermission ${s.config.brokerPermission} forbids writes`,
    },
  ];
}

/** Builds the broker's admin app over `services` (the same services the handlers use). */
export function createBrokerAdminApp(services: BrokerServices, options: BrokerAdminOptions): BrokerAdminApp {
  const log = getLogger(["denomq", "http"]);
  const client = new RemotingClient({ timeoutMs: 5000 });
  const invoker = new LocalInvoker({
    tables: new Map([[services.brokerAddr, createBrokerProcessors(services)]]),
    fallback: remoteInvoker(client),
  });
  const ops = new AdminOps({ invoker, source: brokerSource(services, client) });
  const auditPath = options.auditPath === undefined
    ? `${services.config.storePathRootDir}/audit.log`
    : options.auditPath;
  const audit = new AuditLog({ sink: auditPath ? fileAuditSink(auditPath) : undefined });
  const metrics = new BrokerMetrics(services, options.servers);
  metrics.start();
  const { app, close } = createAdminApp({
    role: "broker",
    ops,
    audit,
    auth: { token: options.token, loopback: options.loopback },
    metrics: () => metrics.render(),
    ready: () => Promise.resolve(brokerReadyChecks(services)),
    limits: options.limits,
    log: (error) =>
      log.error("HTTP admin request failed: {error}", { error: (error as Error)?.stack ?? String(error) }),
  });
  return {
    app,
    ops,
    metrics,
    async close() {
      metrics.stop();
      await close();
      await client.close();
    },
  };
}

/** Where to serve the broker's HTTP admin. */
export interface BrokerHttpOptions {
  /** Default 127.0.0.1. */
  hostname?: string;
  port: number;
  token?: string;
}

/** A broker's running HTTP admin. */
export interface BrokerHttp extends HttpAdminServer {
  admin: BrokerAdminApp;
}

/** Serves the broker's HTTP admin. */
export function startBrokerHttp(
  broker: { services: BrokerServices; server: RemotingServer; vipServer?: RemotingServer },
  options: BrokerHttpOptions,
): BrokerHttp {
  const hostname = options.hostname ?? "127.0.0.1";
  const servers = [{ port: "main", server: broker.server }];
  if (broker.vipServer) servers.push({ port: "vip", server: broker.vipServer });
  const admin = createBrokerAdminApp(broker.services, {
    servers,
    token: options.token,
    loopback: isLoopbackHost(hostname),
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

export { BrokerMetrics } from "./metrics.ts";
export { createBrokerProcessors };
