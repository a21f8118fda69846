/**
 * The shared HTTP admin app through `app.request()` with stub operations: auth (token, dashboard
 * login, loopback Host check), limits (body size, media type, timeout, requests in flight), the
 * one error shape, and the OpenAPI document covering every route.
 */

import assert from "node:assert/strict";
import type { Hono } from "hono";
import { AdminOps, type ClusterSource } from "../ops/admin_ops.ts";
import { AuditLog } from "../ops/audit.ts";
import type { ClusterInfo } from "../protocol/bodies.ts";
import { createAdminApp, type HttpLimits } from "./app.ts";
import { openApiDocument } from "./openapi.ts";

const TOKEN = "test-token-0123456789abcdef";

/** A cluster whose info takes `delayMs` to come back. */
function slowSource(delayMs: number, timers: Set<ReturnType<typeof setTimeout>>): ClusterSource {
  const info: ClusterInfo = { brokerAddrTable: new Map(), clusterAddrTable: new Map() };
  return {
    clusterInfo: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve(info);
        }, delayMs);
        timers.add(timer);
      }),
    topicRoute: () => Promise.reject(new Error("no routes")),
    topicNames: () => Promise.resolve([]),
    deleteTopicRoutes: () => Promise.resolve(),
  };
}

function makeApp(
  options: { token?: string; loopback?: boolean; delayMs?: number; limits?: Partial<HttpLimits> } = {},
) {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const ops = new AdminOps({
    invoker: { invoke: () => Promise.reject(new Error("no brokers")) },
    source: slowSource(options.delayMs ?? 0, timers),
  });
  const { app, close } = createAdminApp({
    role: "nameserver",
    ops,
    audit: new AuditLog(),
    auth: { token: options.token, loopback: options.loopback ?? true },
    metrics: () => Promise.resolve("# HELP x y\n# TYPE x gauge\nx 1\n"),
    ready: () => Promise.resolve([{ name: "test", ok: true, detail: "ok" }]),
    limits: options.limits,
  });
  return {
    app,
    async close() {
      await close();
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

async function json(app: Hono, path: string, init?: RequestInit) {
  const response = await app.request(path, init);
  return { status: response.status, headers: response.headers, body: await response.json() };
}

Deno.test("createAdminApp: unknown routes and bad input answer { code, name, message }", async () => {
  const { app, close } = makeApp();
  try {
    assert.deepEqual((await json(app, "/api/nope")).body, {
      code: 404,
      name: "NotFound",
      message: "No route GET /api/nope",
    });
    const form = await json(app, "/api/topics", { method: "POST", body: "topic=x" });
    assert.equal(form.status, 415);
    assert.equal(form.body.name, "UnsupportedMediaType");
    const bad = await json(app, "/api/topics", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    assert.deepEqual(bad.body, { code: 400, name: "InvalidArgument", message: "Invalid JSON body" });
    const unreachable = await json(app, "/api/brokers/x/runtime");
    assert.equal(unreachable.status, 404);
  } finally {
    await close();
  }
});

Deno.test("createAdminApp: bodies over bodyBytesMax are refused with 413", async () => {
  const { app, close } = makeApp({ limits: { bodyBytesMax: 1024 } });
  try {
    const big = await json(app, "/api/topics", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "5000" },
      body: JSON.stringify({ topic: "x".repeat(5000) }),
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.name, "PayloadTooLarge");
  } finally {
    await close();
  }
});

Deno.test("createAdminApp: a request past requestTimeoutMs is answered 504, and past inflightMax 503", async () => {
  const { app, close } = makeApp({ delayMs: 300, limits: { requestTimeoutMs: 50, inflightMax: 1 } });
  try {
    const slow = app.request("/api/cluster");
    const busy = await json(app, "/api/cluster");
    assert.equal(busy.status, 503);
    assert.equal(busy.body.name, "Busy");
    const timedOut = await slow;
    assert.equal(timedOut.status, 504);
    assert.deepEqual(await timedOut.json(), { code: 504, name: "Timeout", message: "The request took too long" });
  } finally {
    await close();
  }
});

Deno.test("createAdminApp: on loopback without a token, foreign Host names are refused (DNS rebinding)", async () => {
  const { app, close } = makeApp();
  try {
    assert.equal((await app.request("/api/cluster", { headers: { host: "127.0.0.1:8080" } })).status, 200);
    assert.equal((await app.request("/api/cluster", { headers: { host: "localhost:8080" } })).status, 200);
    const evil = await json(app, "/api/cluster", { headers: { host: "attacker.example:8080" } });
    assert.equal(evil.status, 403);
    assert.equal((await app.request("/", { headers: { host: "attacker.example" } })).status, 403);
  } finally {
    await close();
  }
});

Deno.test("createAdminApp: the dashboard logs in with the token and carries an HttpOnly SameSite cookie", async () => {
  const { app, close } = makeApp({ token: TOKEN, loopback: false });
  try {
    assert.deepEqual((await json(app, "/api/session")).body, {
      role: "nameserver",
      authRequired: true,
      authenticated: false,
    });
    assert.equal((await app.request("/api/cluster")).status, 401);
    const post = (token: string) =>
      app.request("/api/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
      });
    assert.equal((await post("wrong")).status, 401);
    const ok = await post(TOKEN);
    assert.equal(ok.status, 200);
    const cookie = ok.headers.get("set-cookie") ?? "";
    assert.match(cookie, /denomq_session=[0-9a-f]{64}/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const session = cookie.split(";")[0];
    assert.equal((await app.request("/api/cluster", { headers: { cookie: session } })).status, 200);
    assert.equal((await app.request("/metrics", { headers: { cookie: session } })).status, 200);
    await app.request("/api/logout", {
      method: "POST",
      headers: { cookie: session, "content-type": "application/json" },
    });
    assert.equal((await app.request("/api/cluster", { headers: { cookie: session } })).status, 401);
    // Failed logins are limited per address: the 11th within a minute is refused outright.
    for (let i = 0; i < 10; i++) await post("wrong");
    const limited = await post(TOKEN);
    assert.equal(limited.status, 429);
  } finally {
    await close();
  }
});

Deno.test("createAdminApp: refuses to exist off loopback without a token, or with a short one", () => {
  assert.throws(() => makeApp({ loopback: false }), /needs a token/);
  assert.throws(() => makeApp({ token: "short" }), /at least 16/);
});

Deno.test("openApiDocument: every route the app serves is documented, and every documented path is served", async () => {
  const { app, close } = makeApp();
  try {
    const doc = openApiDocument("nameserver") as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.equal(doc.openapi, "3.1.0");
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)
      ),
    );
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && !r.path.startsWith("/dashboard/") && r.path !== "/")
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    assert.deepEqual([...served].filter((r) => !documented.has(r)), [], "served but not documented");
    assert.deepEqual([...documented].filter((r) => !served.has(r)), [], "documented but not served");
    const served200 = await app.request("/openapi.json");
    assert.equal(served200.status, 200);
  } finally {
    await close();
  }
});
