/**
 * The HTTP admin API and dashboard, one Hono app for every role: the broker builds it over its
 * own services (through a `LocalInvoker` on its processor table), the NameServer over its route
 * table and the brokers it routes. Routes are listed in `openapi.ts`; every answer is JSON, every
 * error `{ code, name, message }`; bodies are capped (`bodyLimit`), requests time out
 * (`timeout`), and requests in flight are bounded.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { timeout } from "hono/timeout";
import { AdminOps, parseTimestamp, type TopicKind } from "../ops/admin_ops.ts";
import type { AuditLog } from "../ops/audit.ts";
import { DlqOps, REDRIVE_MESSAGES_MAX } from "../ops/dlq.ts";
import { readGroupList } from "../ops/bodies.ts";
import { InvalidArgumentError, NotFoundError, RateLimitedError } from "../ops/errors.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { RateLimiter } from "../ops/rate_limit.ts";
import { Auth, type AuthOptions } from "./auth.ts";
import { DASHBOARD_FILES } from "./dashboard.ts";
import { errorResponse, HttpError } from "./errors.ts";
import { RedriveJobs } from "./jobs.ts";
import { openApiDocument } from "./openapi.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";

/** Limits of the HTTP admin. */
export interface HttpLimits {
  /** Request body bytes: admin bodies are a few hundred bytes. */
  bodyBytesMax: number;
  /** Time one request may take before it is answered 504. */
  requestTimeoutMs: number;
  /** API requests handled at once; more are answered 503 at once. */
  inflightMax: number;
  /** DLQ single resends per second, over all callers. */
  resendsPerSecond: number;
}

/** Defaults for {@linkcode HttpLimits}. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  bodyBytesMax: 64 * 1024,
  requestTimeoutMs: 15_000,
  inflightMax: 64,
  resendsPerSecond: 5,
};

/** One readiness check. */
export interface ReadyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** Options for {@linkcode createAdminApp}. */
export interface AdminAppOptions {
  role: "broker" | "nameserver" | "dev";
  ops: AdminOps;
  audit: AuditLog;
  auth: AuthOptions;
  /** The Prometheus document. */
  metrics(): Promise<string>;
  /** Readiness checks; all must pass for 200. */
  ready(): Promise<ReadyCheck[]>;
  limits?: Partial<HttpLimits>;
  log?: (error: unknown) => void;
}

function intQuery(c: Context, name: string, fallback?: number): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  if (!/^-?\d+$/.test(raw)) {
    throw new InvalidArgumentError(`Invalid query parameter ${name}="${raw}": expected an integer`);
  }
  return Number(raw);
}

function requiredQuery(c: Context, name: string): string {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") throw new InvalidArgumentError(`Missing query parameter ${name}`);
  return raw;
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new InvalidArgumentError("Invalid JSON body");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError("Invalid JSON body: expected an object");
  }
  return body as Record<string, unknown>;
}

function optionalInt(body: Record<string, unknown>, name: string): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new InvalidArgumentError(`Invalid ${name}: expected an integer`);
  }
  return v;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new InvalidArgumentError(`Invalid ${name}: expected a string`);
  return v;
}

function actor(c: Context): string {
  return (c.get("actor" as never) as string | undefined) ?? "http";
}

const TOPIC_KINDS = new Set(["normal", "retry", "dlq", "system"]);

/** Builds the app; `close()` stops running redrives and waits for them. */
export function createAdminApp(options: AdminAppOptions): { app: Hono; close(): Promise<void> } {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const { ops, audit } = options;
  const auth = new Auth(options.auth);
  const resends = new RateLimiter(limits.resendsPerSecond, limits.resendsPerSecond);
  const jobs = new RedriveJobs();
  const app = new Hono();
  let inflight = 0;

  app.onError((error, c) => errorResponse(c, error, options.log));
  app.notFound((c) => c.json({ code: 404, name: "NotFound", message: `No route ${c.req.method} ${c.req.path}` }, 404));
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    }),
  );
  app.use(
    "*",
    bodyLimit({
      maxSize: limits.bodyBytesMax,
      onError: () => {
        throw new HttpError(413, `Request body is larger than ${limits.bodyBytesMax} bytes`);
      },
    }),
  );
  // Mutations take JSON only: a cross-site form cannot send it without a CORS preflight we never grant.
  app.use("/api/*", async (c, next) => {
    const method = c.req.method;
    if (method !== "GET" && method !== "HEAD" && method !== "DELETE") {
      const type = c.req.header("content-type") ?? "";
      if (!type.toLowerCase().startsWith("application/json")) {
        throw new HttpError(415, `Expected Content-Type application/json, got "${type}"`);
      }
    }
    if (inflight >= limits.inflightMax) {
      throw new HttpError(503, `Too many requests in progress (${limits.inflightMax}): retry shortly`);
    }
    inflight++;
    try {
      await next();
    } finally {
      inflight--;
    }
  });
  app.use("/api/*", timeout(limits.requestTimeoutMs, () => new HttpError(504, "The request took too long")));

  // ---- open: probes, the dashboard's files and login ----
  app.get("/healthz", (c) => c.json({ status: "ok", role: options.role }));
  app.get("/readyz", async (c) => {
    const checks = await options.ready();
    const ready = checks.every((check) => check.ok);
    return c.json({ ready, role: options.role, checks }, ready ? 200 : 503);
  });
  for (const [path, file] of DASHBOARD_FILES) {
    app.get(path, (c) => {
      auth.checkHost(c);
      c.header("Cache-Control", "no-cache");
      return c.body(file.body, 200, { "Content-Type": file.type });
    });
  }
  app.get("/api/session", async (c) => {
    auth.checkHost(c);
    const who = await auth.actorOf(c);
    return c.json({ role: options.role, authRequired: auth.required, authenticated: who !== undefined });
  });
  app.post("/api/login", async (c) => auth.login(c, (await jsonBody(c)).token));
  app.post("/api/logout", (c) => auth.logout(c));

  // ---- everything else needs auth ----
  app.use("/api/*", auth.middleware());
  app.use("/metrics", auth.middleware());
  app.use("/openapi.json", auth.middleware());

  app.get("/openapi.json", (c) => c.json(openApiDocument(options.role)));
  app.get("/metrics", async (c) => c.body(await options.metrics(), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE }));

  // Cluster and brokers.
  app.get("/api/cluster", async (c) => c.json({ role: options.role, brokers: await ops.brokerSummaries() }));
  app.get("/api/brokers/:addr/runtime", async (c) => {
    const addr = await knownBroker(ops, c.req.param("addr"));
    return c.json(await ops.runtimeInfo(addr));
  });
  app.get("/api/brokers/:addr/config", async (c) => {
    const addr = await knownBroker(ops, c.req.param("addr"));
    return c.json(await ops.brokerConfig(addr));
  });
  app.put("/api/brokers/:addr/config", async (c) => {
    const addr = await knownBroker(ops, c.req.param("addr"));
    const body = await jsonBody(c);
    const key = optionalString(body, "key");
    const value = body.value;
    if (!key || typeof value !== "string") throw new InvalidArgumentError("Expected { key, value } strings");
    await ops.updateBrokerConfig([addr], key, value);
    audit.record({ actor: actor(c), action: "broker.config", target: addr, outcome: "ok", detail: { key, value } });
    return c.json({ addr, key, value });
  });

  // Topics.
  app.get("/api/topics", async (c) => {
    const kinds = (c.req.query("kind") ?? "normal").split(",").filter(Boolean);
    for (const kind of kinds) {
      if (!TOPIC_KINDS.has(kind)) {
        throw new InvalidArgumentError(`Invalid kind "${kind}": expected normal, retry, dlq or system`);
      }
    }
    return c.json(
      await ops.topicPage({
        filter: c.req.query("filter"),
        kinds: kinds as TopicKind[],
        page: intQuery(c, "page"),
        pageSize: intQuery(c, "pageSize"),
      }),
    );
  });
  app.post("/api/topics", async (c) => {
    const body = await jsonBody(c);
    const topic = optionalString(body, "topic") ?? "";
    const clusterName = optionalString(body, "clusterName");
    const brokerAddr = optionalString(body, "brokerAddr");
    const brokers = await ops.createTopic({
      topic,
      brokerAddr,
      clusterName: clusterName ?? (brokerAddr ? undefined : (await ops.masters())[0]?.cluster),
      readQueueNums: optionalInt(body, "readQueueNums"),
      writeQueueNums: optionalInt(body, "writeQueueNums"),
      perm: optionalInt(body, "perm"),
      order: body.order === true,
    });
    audit.record({ actor: actor(c), action: "topic.create", target: topic, outcome: "ok", detail: { brokers } });
    return c.json({ topic, brokers }, 201);
  });
  app.delete("/api/topics/:topic", async (c) => {
    const topic = c.req.param("topic");
    const brokers = await ops.deleteTopic(topic, c.req.query("clusterName") || undefined);
    audit.record({ actor: actor(c), action: "topic.delete", target: topic, outcome: "ok", detail: { brokers } });
    return c.json({ topic, brokers });
  });
  app.get("/api/topics/:topic/route", async (c) => {
    const route = await ops.topicRoute(c.req.param("topic"));
    return c.json({
      queueDatas: route.queueDatas,
      brokerDatas: route.brokerDatas.map((b) => ({ ...b, brokerAddrs: Object.fromEntries(b.brokerAddrs) })),
    });
  });
  app.get("/api/topics/:topic/stats", async (c) => c.json(await ops.topicStatus(c.req.param("topic"))));
  app.get("/api/topics/:topic/consumers", async (c) => {
    const topic = c.req.param("topic");
    await ops.topicRoute(topic);
    return c.json(await topicConsumers(ops, topic));
  });
  app.get("/api/topics/:topic/messages", async (c) => {
    const topic = c.req.param("topic");
    const brokerName = c.req.query("brokerName") || (await ops.topicRoute(topic)).brokerDatas[0]?.brokerName;
    if (!brokerName) throw new NotFoundError(`Topic "${topic}" has no broker`);
    return c.json(
      await ops.pullMessages(topic, brokerName, intQuery(c, "queueId", 0)!, intQuery(c, "offset", 0)!, {
        maxCount: intQuery(c, "max", 20),
      }),
    );
  });

  // Consumer groups.
  app.get("/api/groups", async (c) =>
    c.json(
      await ops.groupPage({
        filter: c.req.query("filter"),
        includeSystem: c.req.query("system") === "true",
        page: intQuery(c, "page"),
        pageSize: intQuery(c, "pageSize"),
      }),
    ));
  app.get(
    "/api/groups/:group/progress",
    async (c) => c.json(await ops.consumerProgress(c.req.param("group"), { topic: c.req.query("topic") || undefined })),
  );
  app.get("/api/groups/:group/connections", async (c) => {
    const connection = await ops.consumerConnection(c.req.param("group"));
    const page = intQuery(c, "page", 1)!;
    const size = Math.min(Math.max(intQuery(c, "pageSize", 100)!, 1), 500);
    return c.json({
      ...connection,
      total: connection.connections.length,
      page,
      pageSize: size,
      connections: connection.connections.slice((page - 1) * size, page * size),
    });
  });
  app.post("/api/groups/:group/reset-offset", async (c) => {
    const group = c.req.param("group");
    const body = await jsonBody(c);
    const topic = optionalString(body, "topic");
    if (!topic) throw new InvalidArgumentError("Missing topic");
    const raw = body.timestamp;
    const timestamp = typeof raw === "number" ? raw : parseTimestamp(typeof raw === "string" ? raw : "");
    const queues = await ops.resetOffsetByTime(group, topic, timestamp, body.force !== false);
    audit.record({
      actor: actor(c),
      action: "offset.reset",
      target: `${group}/${topic}`,
      outcome: "ok",
      detail: { timestamp, queues: queues.length },
    });
    return c.json({ group, topic, timestamp, queues });
  });

  // Messages.
  app.get(
    "/api/messages/by-key",
    async (c) =>
      c.json(await ops.queryByKey(requiredQuery(c, "topic"), requiredQuery(c, "key"), { maxNum: intQuery(c, "max") })),
  );
  app.get(
    "/api/messages/by-id/:msgId",
    async (c) => c.json(await ops.queryById(c.req.param("msgId"), c.req.query("topic") || undefined)),
  );
  app.get("/api/messages/by-offset", async (c) => {
    const queueId = intQuery(c, "queueId");
    const offset = intQuery(c, "offset");
    if (queueId === undefined || offset === undefined) throw new InvalidArgumentError("Missing queueId or offset");
    return c.json(await ops.queryByOffset(requiredQuery(c, "topic"), requiredQuery(c, "brokerName"), queueId, offset));
  });

  // Dead letters.
  app.get("/api/groups/:group/dlq", async (c) => {
    const dlq = new DlqOps(ops, { audit, actor: actor(c) });
    return c.json(
      await dlq.browse(c.req.param("group"), {
        brokerName: c.req.query("brokerName") || undefined,
        fromOffset: intQuery(c, "offset"),
        max: intQuery(c, "max"),
      }),
    );
  });
  app.post("/api/groups/:group/dlq/resend", async (c) => {
    const body = await jsonBody(c);
    const msgId = optionalString(body, "msgId");
    if (!msgId) throw new InvalidArgumentError("Missing msgId");
    const token = resends.tryTake();
    if (!token.ok) {
      throw new RateLimitedError(
        `Resends are limited to ${limits.resendsPerSecond} a second`,
        Math.ceil(token.waitMs / 1000),
      );
    }
    const dlq = new DlqOps(ops, { audit, actor: actor(c) });
    return c.json(await dlq.resend(c.req.param("group"), msgId));
  });
  app.post("/api/groups/:group/dlq/redrive", async (c) => {
    const body = await jsonBody(c);
    const group = c.req.param("group");
    const rate = body.rate === undefined ? undefined : Number(body.rate);
    const max = optionalInt(body, "max");
    if (rate !== undefined) new RateLimiter(rate); // validates before the job starts: a bad rate is a 400
    if (max !== undefined && (max < 1 || max > REDRIVE_MESSAGES_MAX)) {
      throw new InvalidArgumentError(`Invalid max ${max}: expected 1-${REDRIVE_MESSAGES_MAX} messages`);
    }
    const dlq = new DlqOps(ops, { audit, actor: actor(c) });
    const job = jobs.start(group, (signal, onOutcome) => dlq.redrive(group, { rate, max, signal, onOutcome }));
    return c.json(job, 202);
  });
  app.get("/api/dlq/jobs", (c) => c.json(jobs.list()));
  app.get("/api/dlq/jobs/:id", (c) => c.json(jobs.get(c.req.param("id"))));
  app.post("/api/dlq/jobs/:id/stop", (c) => c.json(jobs.stop(c.req.param("id"))));

  app.get("/api/audit", (c) => c.json(audit.recent(Math.min(intQuery(c, "limit", 100)!, 1000))));

  return { app, close: () => jobs.stopAll() };
}

/** Decodes and checks a broker address path parameter. */
async function knownBroker(ops: AdminOps, raw: string): Promise<string> {
  const addr = decodeURIComponent(raw);
  if (!(await ops.brokers()).some((b) => b.addr === addr)) {
    throw new NotFoundError(`Broker "${addr}" is not a broker of this cluster`);
  }
  return addr;
}

/** Groups consuming a topic (QUERY_TOPIC_CONSUME_BY_WHO on each master of its route). */
async function topicConsumers(ops: AdminOps, topic: string): Promise<string[]> {
  const route = await ops.topicRoute(topic);
  const groups = new Set<string>();
  for (const b of route.brokerDatas) {
    const addr = b.brokerAddrs.get(0);
    if (!addr) continue;
    const response = await ops.callOk(addr, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic });
    for (const g of readGroupList(response.body)) groups.add(g);
  }
  return [...groups].sort();
}
