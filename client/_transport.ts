/**
 * The client's only contact with a runtime's socket API: a TCP stream as `write()` plus an
 * async iterator of chunks. Deno's `Deno.connect` when running under Deno, `node:net` otherwise,
 * so everything else in `client/` runs on both.
 *
 * @module
 */

/** A connected TCP stream. */
export interface Socket {
  /** Writes all of `bytes`. */
  write(bytes: Uint8Array): Promise<void>;
  /** Chunks until EOF; ends (or throws) when the connection ends. */
  reads(): AsyncIterable<Uint8Array>;
  close(): void;
  /** Local `ip:port`, for client ids and logs. */
  readonly localAddr: string;
}

/** Opens a TCP connection to `host:port`. */
export type Connect = (host: string, port: number, timeoutMs: number) => Promise<Socket>;

interface DenoLike {
  connect(options: { hostname: string; port: number }): Promise<DenoConn>;
}
interface DenoConn {
  write(p: Uint8Array): Promise<number>;
  read(p: Uint8Array): Promise<number | null>;
  close(): void;
  setNoDelay?(on: boolean): void;
  localAddr: { hostname: string; port: number };
}

const READ_BUFFER_BYTES = 64 * 1024;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function connectDeno(deno: DenoLike, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const pending = deno.connect({ hostname: host, port });
  let conn: DenoConn;
  try {
    conn = await withTimeout(pending, timeoutMs, `Connecting to ${host}:${port}`);
  } catch (error) {
    pending.then((c) => c.close(), () => {});
    throw error;
  }
  conn.setNoDelay?.(true);
  let closed = false;
  return {
    localAddr: `${conn.localAddr.hostname}:${conn.localAddr.port}`,
    async write(bytes) {
      let written = 0;
      while (written < bytes.length) written += await conn.write(written === 0 ? bytes : bytes.subarray(written));
    },
    async *reads() {
      const buffer = new Uint8Array(READ_BUFFER_BYTES);
      while (!closed) {
        let n: number | null;
        try {
          n = await conn.read(buffer);
        } catch (error) {
          if (closed) return;
          throw error;
        }
        if (n === null) return;
        yield buffer.subarray(0, n);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}

async function connectNode(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const net = await import("node:net");
  const socket = net.createConnection({ host, port, noDelay: true });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    }),
    timeoutMs,
    `Connecting to ${host}:${port}`,
  ).catch((error) => {
    socket.destroy();
    throw error;
  });
  return {
    localAddr: `${socket.localAddress}:${socket.localPort}`,
    write(bytes) {
      return new Promise((resolve, reject) => socket.write(bytes, (error) => error ? reject(error) : resolve()));
    },
    async *reads() {
      for await (const chunk of socket) yield chunk as Uint8Array;
    },
    close() {
      socket.destroy();
    },
  };
}

/** The runtime's TCP connect. */
export const connect: Connect = (host, port, timeoutMs) => {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  return deno ? connectDeno(deno, host, port, timeoutMs) : connectNode(host, port, timeoutMs);
};
