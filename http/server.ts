/**
 * Serves an admin app on `--http-host:--http-port`: loopback (127.0.0.1) unless told otherwise,
 * and anywhere else only with a token.
 *
 * @module
 */

import type { Hono } from "hono";
import { isLoopbackHost } from "./auth.ts";

/** Where and how to serve. */
export interface HttpServeOptions {
  /** Default 127.0.0.1. */
  hostname?: string;
  /** 0 picks a free port. */
  port: number;
}

/** A running HTTP admin. */
export interface HttpAdminServer {
  /** `host:port`. */
  readonly addr: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The token, read from `DENOMQ_HTTP_TOKEN` or a file; undefined when neither is set. */
export async function readHttpToken(tokenFile: string | undefined): Promise<string | undefined> {
  if (tokenFile) return (await Deno.readTextFile(tokenFile)).trim();
  try {
    return Deno.env.get("DENOMQ_HTTP_TOKEN")?.trim() || undefined;
  } catch {
    return undefined; // no env permission for it: no token from the environment
  }
}

/** Whether a bind address is loopback. */
export function isLoopbackBind(hostname: string): boolean {
  return isLoopbackHost(hostname);
}

/** Starts serving `app`. */
export function serveHttpAdmin(app: Hono, options: HttpServeOptions): HttpAdminServer {
  const hostname = options.hostname ?? "127.0.0.1";
  const server = Deno.serve({ hostname, port: options.port, onListen: () => {} }, app.fetch);
  const port = server.addr.port;
  return {
    addr: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    port,
    close: () => server.shutdown(),
  };
}
