/**
 * Who may use the HTTP admin. Bound to loopback without a token: anyone on this host (the
 * RocketMQ Dashboard's model), with the Host header checked against DNS rebinding. Bound anywhere
 * else a token is required (the server refuses to start without one): API clients send
 * `Authorization: Bearer <token>`, the dashboard logs in with the token once and then carries an
 * HttpOnly, SameSite=Strict session cookie. Failed logins are rate-limited per client address.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { HttpError } from "./errors.ts";

/** The session cookie's name. */
export const SESSION_COOKIE = "denomq_session";
/** How long a dashboard session lasts. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** Sessions held at once; the oldest is dropped beyond it. */
export const SESSIONS_MAX = 1000;
/** Failed logins allowed per client address per minute. */
export const LOGIN_FAILURES_PER_MINUTE_MAX = 10;
/** Client addresses whose failures are tracked (bounded memory under a spray of addresses). */
const LOGIN_TRACKED_ADDRS_MAX = 10_000;

/** Auth settings. */
export interface AuthOptions {
  /** The bearer token; undefined means none is required (loopback only). */
  token?: string;
  /** The server is bound to a loopback address. */
  loopback: boolean;
  now?: () => number;
}

/** Whether `hostname` is a loopback address or name. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Compares in time independent of where the strings differ. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** The caller's address as the server saw it ("local" under `app.request()`). */
export function clientAddr(c: Context): string {
  const env = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return env?.remoteAddr?.hostname ?? "local";
}

/** Sessions, login and the auth middleware. */
export class Auth {
  readonly #token?: string;
  readonly #loopback: boolean;
  readonly #now: () => number;
  readonly #sessions = new Map<string, number>();
  readonly #failures = new Map<string, number[]>();

  constructor(options: AuthOptions) {
    if (options.token !== undefined && options.token.length < 16) {
      throw new RangeError(`The HTTP admin token is ${options.token.length} characters, expected at least 16`);
    }
    if (!options.loopback && options.token === undefined) {
      throw new RangeError("The HTTP admin is not bound to loopback, so it needs a token");
    }
    this.#token = options.token;
    this.#loopback = options.loopback;
    this.#now = options.now ?? Date.now;
  }

  /** Whether callers must authenticate. */
  get required(): boolean {
    return this.#token !== undefined;
  }

  /** Who is calling, for the audit log; undefined when not authenticated. */
  async actorOf(c: Context): Promise<string | undefined> {
    if (this.#token === undefined) return "http:loopback";
    const header = c.req.header("authorization") ?? "";
    if (header.startsWith("Bearer ")) {
      return await sameSecret(header.slice(7).trim(), this.#token) ? "http:token" : undefined;
    }
    const session = getCookie(c, SESSION_COOKIE);
    if (session) {
      const expires = this.#sessions.get(session);
      if (expires !== undefined && expires > this.#now()) return `http:session:${session.slice(0, 8)}`;
      if (expires !== undefined) this.#sessions.delete(session);
    }
    return undefined;
  }

  /** Refuses unauthenticated callers (401) and, on loopback, foreign Host headers (403). */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      this.checkHost(c);
      const actor = await this.actorOf(c);
      if (!actor) {
        c.header("WWW-Authenticate", 'Bearer realm="denomq"');
        throw new HttpError(401, "Authentication required: send Authorization: Bearer <token> or log in");
      }
      c.set("actor" as never, actor as never);
      await next();
    };
  }

  /**
   * On loopback without a token, a page on another site could reach us through a DNS name that
   * resolves to 127.0.0.1; its requests carry that name in Host, so only loopback names pass.
   */
  checkHost(c: Context): void {
    if (!this.#loopback || this.#token !== undefined) return;
    const host = c.req.header("host");
    if (host === undefined) return;
    const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
    if (!isLoopbackHost(name)) throw new HttpError(403, `Host "${host}" is not a loopback name`, "Forbidden");
  }

  /** POST /api/login `{ token }`: starts a session. */
  async login(c: Context, token: unknown): Promise<Response> {
    if (this.#token === undefined) return c.json({ authenticated: true, authRequired: false });
    const addr = clientAddr(c);
    const now = this.#now();
    const recent = (this.#failures.get(addr) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= LOGIN_FAILURES_PER_MINUTE_MAX) {
      c.header("Retry-After", "60");
      throw new HttpError(429, "Too many failed logins from this address: wait a minute", "RateLimited");
    }
    if (typeof token !== "string" || !(await sameSecret(token, this.#token))) {
      if (!this.#failures.has(addr) && this.#failures.size >= LOGIN_TRACKED_ADDRS_MAX) {
        this.#failures.delete(this.#failures.keys().next().value!);
      }
      this.#failures.set(addr, [...recent, now]);
      throw new HttpError(401, "Wrong token");
    }
    this.#failures.delete(addr);
    const id = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");
    if (this.#sessions.size >= SESSIONS_MAX) this.#sessions.delete(this.#sessions.keys().next().value!);
    this.#sessions.set(id, now + SESSION_TTL_MS);
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: SESSION_TTL_MS / 1000,
    });
    return c.json({ authenticated: true, authRequired: true });
  }

  /** POST /api/logout: ends the session. */
  logout(c: Context): Response {
    const session = getCookie(c, SESSION_COOKIE);
    if (session) this.#sessions.delete(session);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.json({ authenticated: false, authRequired: this.required });
  }
}
