/**
 * The remoting server core shared by the NameServer and the broker: accept TCP connections,
 * frame and decode commands, dispatch each request to the handler registered for its code in a
 * bounded lane, and write responses — out of order, as clients pipeline requests on one
 * connection and a held pull must not delay the next send.
 *
 * Per-connection bounds (NATS's model): at most `inflightRequestsMax` requests being handled
 * (reading pauses until they drain), outbound bytes paused at 75 % of `pendingBytesMax` (reading
 * pauses, so a client that stops reading stops being served) and disconnected above the cap (a
 * slow consumer, counted). A frame that breaks framing closes only that connection.
 *
 * The server can also call its clients (broker → consumer requests such as
 * NOTIFY_CONSUMER_IDS_CHANGED or GET_CONSUMER_RUNNING_INFO) on the same connection with its own
 * opaque counter.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { createResponse, isOneway, isResponse, ONEWAY_FLAG, type RemotingCommand } from "../protocol/command.ts";
import { ProtocolError, ResponseError } from "../protocol/errors.ts";
import { FrameDecoder } from "../protocol/frame.ts";
import { FrameWriter } from "../protocol/frame_writer.ts";
import { requestCodeName } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { createLanes, type Lane, type LaneConfig } from "./lanes.ts";

/** What a handler sees besides the request. */
export interface RequestContext {
  /** The connection the request arrived on. */
  readonly connection: ServerConnection;
}

/** A request handler: returns the response, or `null` when there is none (oneway). */
export type Handler = (
  request: RemotingCommand,
  context: RequestContext,
) => RemotingCommand | null | Promise<RemotingCommand | null>;

/** A table row: the handler of one request code and the lane it runs in. */
export interface ProcessorEntry {
  handle: Handler;
  lane: string;
}

/** Request code → handler and lane. */
export type ProcessorTable = ReadonlyMap<number, ProcessorEntry>;

/** Per-connection bounds. */
export interface ConnectionLimits {
  /**
   * Requests of one connection being handled at once; above it the connection is not read until
   * some finish. 4096 covers a client with a few thousand queues each holding a long-polled pull.
   */
  inflightRequestsMax: number;
  /**
   * Outbound bytes queued for one connection. Reading pauses at 75 %; above the cap the client is
   * a slow consumer and is disconnected. 64 MiB holds about 250 full 256 KiB pull replies.
   */
  pendingBytesMax: number;
  /** A connection with no traffic for this long is closed (RocketMQ: 120 s). */
  idleTimeoutMs: number;
  /** Time a server → client request waits for its answer. */
  requestTimeoutMs: number;
}

/** Defaults for {@linkcode ConnectionLimits}. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  inflightRequestsMax: 4096,
  pendingBytesMax: 64 * 1024 * 1024,
  idleTimeoutMs: 120_000,
  requestTimeoutMs: 10_000,
};

/** Fraction of `pendingBytesMax` at which reading pauses. */
const PAUSE_READING_RATIO = 0.75;
/**
 * Socket read buffer: starts small, because every idle connection keeps one for its pending read
 * (10,000 idle clients × 4 KiB = 40 MiB), and doubles while reads fill it, up to 64 KiB for bulk
 * senders. Request bodies are views of the buffer they arrived in (no copy per request), so a
 * buffer that lent a body is not reused: the next read gets a new one, halved when reads are
 * small, which bounds what a trickle of held requests can pin (4096 in flight × 4 KiB).
 */
const READ_BUFFER_BYTES_MIN = 4 * 1024;
const READ_BUFFER_BYTES_MAX = 64 * 1024;
/**
 * Queued response bytes that are written at once instead of at the end of the burst (about 64
 * SEND replies). A burst of a few hundred replies otherwise left in one write, and the client sat
 * idle until the broker had handled the whole read: measured here with 256 sends in flight, 1 KiB,
 * four interleaved pairs of runs: 92-120k -> 95-147k msgs/s, p50 1.7-2.0 -> 1.2-1.9 ms.
 */
const EAGER_FLUSH_BYTES = 16 * 1024;
/** How often idle connections are looked for. */
const IDLE_SCAN_INTERVAL_MS = 10_000;

/** Server counters for runtime info and metrics. */
export interface ServerStats {
  connectionsAccepted: number;
  connectionsOpen: number;
  framingErrors: number;
  slowConsumerDisconnects: number;
  idleDisconnects: number;
  rejectedBusy: number;
  unsupportedCodes: number;
  handlerErrors: number;
  refusedByAuthorization: number;
}

/** Options for {@linkcode startRemotingServer}. */
export interface RemotingServerOptions {
  /** Used in log categories and messages, e.g. `"nameserver"`. */
  role: string;
  hostname?: string;
  /** 0 picks a free port. */
  port: number;
  processors: ProcessorTable;
  lanes: Record<string, LaneConfig>;
  limits?: Partial<ConnectionLimits>;
  /** Called once when a connection is gone, for whatever reason. */
  onConnectionClosed?: (connection: ServerConnection) => void;
  /** Answer for codes missing from the table; RocketMQ's broker text by default. */
  unsupportedRemark?: (code: number) => string;
  /**
   * Checks a request before its handler runs (the broker's ACL). A returned string refuses the
   * request: it is answered SYSTEM_ERROR with that remark, as RocketMQ 4.9.x answers an
   * AclException (no answer for oneway requests).
   */
  authorize?: (request: RemotingCommand, connection: ServerConnection) => string | undefined;
}

/** A running server. */
export interface RemotingServer {
  readonly hostname: string;
  readonly port: number;
  readonly stats: Readonly<ServerStats>;
  readonly lanes: ReadonlyMap<string, Lane>;
  readonly connections: ReadonlySet<ServerConnection>;
  /** Stops accepting, closes every connection, and waits for their loops to end. */
  close(): Promise<void>;
}

let nextConnectionId = 1;

/** One accepted client connection. */
export class ServerConnection {
  /** Unique per process, for logs and for registries keyed by connection. */
  readonly id: number = nextConnectionId++;
  /** Peer address as `ip:port`. */
  readonly remoteAddr: string;
  /** Peer IP. */
  readonly remoteHostname: string;
  /** Peer port. */
  readonly remotePort: number;
  /** Free-form state that roles attach (e.g. the client id a heartbeat announced). */
  readonly attributes: Map<string, unknown> = new Map();
  lastActivityMs: number = Date.now();
  #inflightRequests = 0;
  #inflightWaiter: (() => void) | undefined;

  readonly #conn: Deno.Conn;
  readonly #limits: ConnectionLimits;
  readonly #log;
  readonly #stats: ServerStats;
  /** Responses and calls waiting to be written, encoded into reusable buffers. */
  #writer = new FrameWriter();
  /** Bytes queued or being written. */
  #pendingBytes = 0;
  #writing = false;
  #flushScheduled = false;
  #closed = false;
  #drainWaiters: (() => void)[] = [];
  #nextOpaque = 1;
  #pendingCalls = new Map<
    number,
    { resolve: (c: RemotingCommand) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }
  >();
  #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  constructor(conn: Deno.Conn, limits: ConnectionLimits, stats: ServerStats, role: string) {
    this.#conn = conn;
    this.#limits = limits;
    this.#stats = stats;
    this.#log = getLogger(["denomq", role, "connection"]);
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remoteHostname = addr.hostname;
    this.remotePort = addr.port;
    this.remoteAddr = addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
    this.#closedPromise = new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once the connection is closed. */
  get done(): Promise<void> {
    return this.#closedPromise;
  }

  /** Requests of this connection being handled. */
  get inflightRequests(): number {
    return this.#inflightRequests;
  }

  /** Counts a request as being handled. */
  requestStarted(): void {
    this.#inflightRequests++;
  }

  /** Counts a request as finished, waking a reader paused on the in-flight bound. */
  requestFinished(): void {
    this.#inflightRequests--;
    const waiter = this.#inflightWaiter;
    this.#inflightWaiter = undefined;
    waiter?.();
  }

  /** Resolves when fewer than `max` requests are in flight (or the connection closes). */
  async waitForInflightBelow(max: number): Promise<void> {
    while (!this.#closed && this.#inflightRequests >= max) {
      await new Promise<void>((resolve) => this.#inflightWaiter = resolve);
    }
  }

  /** Outbound bytes not yet written. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Queues a command for writing. Returns false, and closes the connection as a slow consumer,
   * when the outbound cap would be exceeded; false also when already closed.
   */
  send(command: RemotingCommand): boolean {
    if (this.#closed) return false;
    const bytes = this.#writer.append(command);
    this.#pendingBytes += bytes;
    if (this.#pendingBytes > this.#limits.pendingBytesMax) {
      this.#stats.slowConsumerDisconnects++;
      this.#log.warn("Closing slow consumer {remoteAddr}: {pendingBytes} bytes pending, limit is {limit} bytes", {
        remoteAddr: this.remoteAddr,
        pendingBytes: this.#pendingBytes,
        limit: this.#limits.pendingBytesMax,
      });
      this.close();
      return false;
    }
    // Write once the current burst of work is done (setImmediate runs after pending I/O callbacks
    // and microtasks), so the responses of one socket read, or of one group commit, leave in one
    // write instead of one syscall each; but as soon as EAGER_FLUSH_BYTES are queued, so the
    // client can start on them while the rest of the burst is handled.
    if (this.#writing) return true;
    if (this.#writer.bytes >= EAGER_FLUSH_BYTES) {
      void this.#flush();
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#startFlush);
    }
    return true;
  }

  readonly #startFlush = (): void => {
    this.#flushScheduled = false;
    if (!this.#writing && !this.#closed) void this.#flush();
  };

  /**
   * Sends a request to the client and awaits its response.
   *
   * @throws {Error} when the connection closes or no answer comes within `timeoutMs`.
   */
  request(command: RemotingCommand, timeoutMs = this.#limits.requestTimeoutMs): Promise<RemotingCommand> {
    const opaque = this.#nextOpaque++;
    const outgoing = { ...command, opaque, flag: command.flag & ~ONEWAY_FLAG };
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new Error(`Cannot call client ${this.remoteAddr}: connection is closed`));
        return;
      }
      const timer = setTimeout(() => {
        this.#pendingCalls.delete(opaque);
        reject(
          new Error(`Client ${this.remoteAddr} did not answer ${requestCodeName(command.code)} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.#pendingCalls.set(opaque, { resolve, reject, timer });
      if (!this.send(outgoing)) {
        clearTimeout(timer);
        this.#pendingCalls.delete(opaque);
        reject(new Error(`Cannot call client ${this.remoteAddr}: connection is closed`));
      }
    });
  }

  /** Sends a oneway request to the client. */
  oneway(command: RemotingCommand): boolean {
    return this.send({ ...command, opaque: this.#nextOpaque++, flag: command.flag | ONEWAY_FLAG });
  }

  /** Routes a response from the client to the call waiting for it. */
  acceptResponse(response: RemotingCommand): void {
    const call = this.#pendingCalls.get(response.opaque);
    if (!call) return; // late answer to a call that already timed out
    this.#pendingCalls.delete(response.opaque);
    clearTimeout(call.timer);
    call.resolve(response);
  }

  /** Gives back the outbound buffers of a connection with nothing to write (idle). */
  trimMemory(): void {
    if (!this.#writing && !this.#flushScheduled) this.#writer.release();
  }

  /** Resolves when outbound bytes drop below the pause threshold (or the connection closes). */
  waitForDrain(): Promise<void> {
    if (this.#closed || this.#pendingBytes <= this.#limits.pendingBytesMax * PAUSE_READING_RATIO) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Closes the connection; safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer
    }
    this.#writer.clear();
    this.#pendingBytes = 0;
    for (const waiter of this.#drainWaiters.splice(0)) waiter();
    this.#inflightWaiter?.();
    this.#inflightWaiter = undefined;
    for (const [opaque, call] of this.#pendingCalls) {
      clearTimeout(call.timer);
      call.reject(new Error(`Client ${this.remoteAddr} closed before answering request ${opaque}`));
    }
    this.#pendingCalls.clear();
    this.#resolveClosed();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#writer.bytes > 0 && !this.#closed) {
        for (const chunk of this.#writer.take()) {
          let written = 0;
          while (written < chunk.length) {
            written += await this.#conn.write(written === 0 ? chunk : chunk.subarray(written));
          }
          this.#pendingBytes -= chunk.length;
        }
        this.lastActivityMs = Date.now();
        if (this.#pendingBytes <= this.#limits.pendingBytesMax * PAUSE_READING_RATIO) {
          for (const waiter of this.#drainWaiters.splice(0)) waiter();
        }
      }
    } catch (error) {
      if (!this.#closed) {
        this.#log.debug("Write to {remoteAddr} failed: {error}", { remoteAddr: this.remoteAddr, error: String(error) });
      }
      this.close();
    } finally {
      this.#writing = false;
    }
  }

  /**
   * Reads from the socket until EOF or error; yields chunks. `chunkLent` is asked after each
   * chunk is processed: when something still views it, the next read gets a new buffer.
   */
  async *reads(chunkLent: () => boolean = () => false): AsyncGenerator<Uint8Array> {
    let buffer = new Uint8Array(READ_BUFFER_BYTES_MIN);
    while (!this.#closed) {
      let n: number | null;
      try {
        n = await this.#conn.read(buffer);
      } catch (error) {
        if (!this.#closed) {
          this.#log.debug("Read from {remoteAddr} failed: {error}", {
            remoteAddr: this.remoteAddr,
            error: String(error),
          });
        }
        return;
      }
      if (n === null) return;
      this.lastActivityMs = Date.now();
      yield buffer.subarray(0, n);
      if (n === buffer.length && buffer.length < READ_BUFFER_BYTES_MAX) {
        buffer = new Uint8Array(buffer.length * 2);
      } else if (chunkLent()) {
        const size = n <= buffer.length / 4 ? Math.max(READ_BUFFER_BYTES_MIN, buffer.length / 2) : buffer.length;
        buffer = new Uint8Array(size);
      }
    }
  }
}

/**
 * Starts a remoting server.
 *
 * @throws {Deno.errors.AddrInUse} and other listen errors.
 */
export function startRemotingServer(options: RemotingServerOptions): RemotingServer {
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
  const log = getLogger(["denomq", options.role, "server"]);
  const listener = Deno.listen({ hostname: options.hostname ?? "0.0.0.0", port: options.port, transport: "tcp" });
  const lanes = createLanes(options.lanes);
  for (const [code, entry] of options.processors) {
    if (!lanes.has(entry.lane)) {
      throw new Error(`Handler of ${requestCodeName(code)} names unknown lane "${entry.lane}"`);
    }
  }
  const stats: ServerStats = {
    connectionsAccepted: 0,
    connectionsOpen: 0,
    framingErrors: 0,
    slowConsumerDisconnects: 0,
    idleDisconnects: 0,
    rejectedBusy: 0,
    unsupportedCodes: 0,
    handlerErrors: 0,
    refusedByAuthorization: 0,
  };
  const connections = new Set<ServerConnection>();
  const loops = new Set<Promise<void>>();
  const unsupportedRemark = options.unsupportedRemark ?? ((code: number) => ` request type ${code} not supported`);
  let closing = false;

  function reply(connection: ServerConnection, request: RemotingCommand, response: RemotingCommand | null): void {
    if (response && !isOneway(request)) connection.send(response);
  }

  async function handle(connection: ServerConnection, request: RemotingCommand, entry: ProcessorEntry): Promise<void> {
    let response: RemotingCommand | null;
    try {
      response = await entry.handle(request, { connection });
    } catch (error) {
      response = errorResponse(request, error);
    }
    reply(connection, request, response);
  }

  function errorResponse(request: RemotingCommand, error: unknown): RemotingCommand {
    if (error instanceof ResponseError) return createResponse(request, error.code, { remark: error.message });
    if (error instanceof ProtocolError) {
      return createResponse(request, ResponseCode.INVALID_PARAMETER, { remark: error.message });
    }
    stats.handlerErrors++;
    log.error("Handler of {code} failed: {error}", {
      code: requestCodeName(request.code),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: message });
  }

  function dispatch(connection: ServerConnection, request: RemotingCommand): void {
    const entry = options.processors.get(request.code);
    if (!entry) {
      stats.unsupportedCodes++;
      // Java 4.9.x writes this reply even for oneway requests.
      connection.send(
        createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, { remark: unsupportedRemark(request.code) }),
      );
      return;
    }
    const refusal = options.authorize?.(request, connection);
    if (refusal !== undefined) {
      stats.refusedByAuthorization++;
      if (!isOneway(request)) connection.send(createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: refusal }));
      return;
    }
    const lane = lanes.get(entry.lane)!;
    connection.requestStarted();
    const running = lane.run(() => handle(connection, request, entry));
    if (!running) {
      connection.requestFinished();
      stats.rejectedBusy++;
      connection.send(createResponse(request, ResponseCode.SYSTEM_BUSY, {
        remark: `[REJECTREQUEST]system busy, start flow control for a while: lane "${lane.name}" is full`,
      }));
      return;
    }
    running.finally(() => connection.requestFinished());
  }

  async function serve(connection: ServerConnection): Promise<void> {
    const decoder = new FrameDecoder({ lendBodies: true });
    const chunkLent = () => decoder.chunkLent;
    try {
      for await (const chunk of connection.reads(chunkLent)) {
        let commands: RemotingCommand[];
        try {
          commands = decoder.push(chunk);
        } catch (error) {
          stats.framingErrors++;
          log.warn("Closing {remoteAddr}: {error}", { remoteAddr: connection.remoteAddr, error: String(error) });
          return;
        }
        for (const command of commands) {
          if (isResponse(command)) connection.acceptResponse(command);
          else dispatch(connection, command);
        }
        // Backpressure: stop reading while too much is in flight or waiting to be written.
        await connection.waitForInflightBelow(limits.inflightRequestsMax);
        await connection.waitForDrain();
      }
    } finally {
      connection.close();
      connections.delete(connection);
      stats.connectionsOpen--;
      try {
        options.onConnectionClosed?.(connection);
      } catch (error) {
        log.error("Connection-closed hook failed: {error}", { error: String(error) });
      }
    }
  }

  async function acceptLoop(): Promise<void> {
    while (!closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        log.error("Accept failed: {error}", { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (closing) {
        conn.close();
        return;
      }
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // not a TCP connection (tests) or already closed
      }
      const connection = new ServerConnection(conn, limits, stats, options.role);
      stats.connectionsAccepted++;
      stats.connectionsOpen++;
      connections.add(connection);
      const loop = serve(connection);
      loops.add(loop);
      loop.finally(() => loops.delete(loop));
    }
  }

  const idleTimer = setInterval(() => {
    const now = Date.now();
    for (const connection of connections) {
      if (connection.inflightRequests === 0 && now - connection.lastActivityMs > limits.idleTimeoutMs) {
        stats.idleDisconnects++;
        log.info("Closing idle connection {remoteAddr}", { remoteAddr: connection.remoteAddr });
        connection.close();
      } else if (now - connection.lastActivityMs > IDLE_SCAN_INTERVAL_MS) {
        connection.trimMemory();
      }
    }
  }, IDLE_SCAN_INTERVAL_MS);

  const accepting = acceptLoop();
  const addr = listener.addr as Deno.NetAddr;

  return {
    hostname: addr.hostname,
    port: addr.port,
    stats,
    lanes,
    connections,
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(idleTimer);
      listener.close();
      await accepting;
      for (const connection of connections) connection.close();
      await Promise.allSettled([...loops]);
    },
  };
}
