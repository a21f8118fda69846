/**
 * Remoting connections from the client side: one multiplexed connection per `host:port`,
 * requests matched to responses by `opaque`, a timeout on every call, and requests that the
 * server sends to us (NOTIFY_CONSUMER_IDS_CHANGED, GET_CONSUMER_RUNNING_INFO…) handed to a
 * callback. A connection that fails is closed and its calls fail; the next call reconnects,
 * but after a failed connect an address is only retried after a capped exponential backoff, so
 * a dead broker costs one fast failure per window instead of a connect timeout per call.
 *
 * Writes are coalesced: frames queued while a write is in progress go out together in the next
 * one, which is what keeps many small in-flight sends cheap.
 *
 * @module
 */

import { createResponse, isOneway, isResponse, ONEWAY_FLAG, type RemotingCommand } from "../protocol/command.ts";
import { encodeFrameParts, FrameDecoder } from "../protocol/frame.ts";
import { requestCodeName } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { type Connect, connect as defaultConnect, type Socket } from "./_transport.ts";

/** Handles a request the server sent us; returns the response or null. */
export type ServerRequestHandler = (
  request: RemotingCommand,
  addr: string,
) => RemotingCommand | null | Promise<RemotingCommand | null>;

/** Options for {@linkcode RemotingClient}. */
export interface RemotingClientOptions {
  /** Default per-call timeout (RocketMQ clients: 3 s). */
  timeoutMs?: number;
  /** Connect timeout. */
  connectTimeoutMs?: number;
  /** First wait before reconnecting to an address whose connect failed; doubles per failure. */
  reconnectBackoffMs?: number;
  /** Cap of the reconnect wait. */
  reconnectBackoffMaxMs?: number;
  /** Requests from servers; unanswered codes get REQUEST_CODE_NOT_SUPPORTED. */
  onServerRequest?: ServerRequestHandler;
  /** Transport seam (tests). */
  connect?: Connect;
}

/** A failed call: no connection, or no answer in time. */
export class RemotingTransportError extends Error {
  override name = "RemotingTransportError";
}

/** A call that got no answer in time (the connection stays open). */
export class RemotingTimeoutError extends RemotingTransportError {
  override name = "RemotingTimeoutError";
}

interface PendingCall {
  resolve: (command: RemotingCommand) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** How long `close()` waits for queued frames (offset commits, unregistrations) to be written. */
const CLOSE_FLUSH_WAIT_MS = 1000;

class Channel {
  readonly addr: string;
  readonly #socket: Socket;
  readonly #pending = new Map<number, PendingCall>();
  readonly #client: RemotingClient;
  #outbound: Uint8Array[] = [];
  #outboundBytes = 0;
  #writing: Promise<void> | undefined;
  closed = false;

  constructor(addr: string, socket: Socket, client: RemotingClient) {
    this.addr = addr;
    this.#socket = socket;
    this.#client = client;
    void this.#readLoop();
  }

  get localAddr(): string {
    return this.#socket.localAddr;
  }

  get pendingCalls(): number {
    return this.#pending.size;
  }

  call(command: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.closed) return Promise.reject(new RemotingTransportError(`Connection to ${this.addr} is closed`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(command.opaque);
        reject(
          new RemotingTimeoutError(`${requestCodeName(command.code)} to ${this.addr} timed out after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.#pending.set(command.opaque, { resolve, reject, timer });
      this.send(command);
    });
  }

  send(command: RemotingCommand): void {
    if (this.closed) throw new RemotingTransportError(`Connection to ${this.addr} is closed`);
    const parts = encodeFrameParts(command);
    for (let i = 0; i < parts.length; i++) {
      this.#outbound.push(parts[i]);
      this.#outboundBytes += parts[i].length;
    }
    if (!this.#writing) this.#writing = this.#flush();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#outbound.length > 0 && !this.closed) {
        const parts = this.#outbound;
        const bytes = this.#outboundBytes;
        this.#outbound = [];
        this.#outboundBytes = 0;
        let chunk: Uint8Array;
        if (parts.length === 1) chunk = parts[0];
        else {
          chunk = new Uint8Array(bytes);
          let pos = 0;
          for (let i = 0; i < parts.length; i++) {
            chunk.set(parts[i], pos);
            pos += parts[i].length;
          }
        }
        await this.#socket.write(chunk);
      }
    } catch (error) {
      this.close(error as Error);
    } finally {
      this.#writing = undefined;
    }
  }

  async #readLoop(): Promise<void> {
    const decoder = new FrameDecoder();
    let failure: Error | undefined;
    try {
      for await (const chunk of this.#socket.reads()) {
        const commands = decoder.push(chunk);
        for (let i = 0; i < commands.length; i++) {
          const command = commands[i];
          if (isResponse(command)) {
            const call = this.#pending.get(command.opaque);
            if (!call) continue; // answer to a call that timed out
            this.#pending.delete(command.opaque);
            clearTimeout(call.timer);
            call.resolve(command);
          } else {
            void this.#serveRequest(command);
          }
        }
      }
    } catch (error) {
      failure = error as Error;
    }
    this.close(failure ?? new Error("connection closed by peer"));
  }

  async #serveRequest(request: RemotingCommand): Promise<void> {
    let response: RemotingCommand | null;
    try {
      response = await this.#client.handleServerRequest(request, this.addr);
    } catch (error) {
      response = createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: String(error) });
    }
    if (response && !isOneway(request) && !this.closed) this.send(response);
  }

  /** Waits (bounded) for queued frames to be written, then closes. */
  async closeGracefully(): Promise<void> {
    const deadline = Date.now() + CLOSE_FLUSH_WAIT_MS;
    while (this.#writing && !this.closed && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#writing, new Promise((r) => timer = setTimeout(r, deadline - Date.now()))]);
      clearTimeout(timer);
    }
    this.close();
  }

  close(cause?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#socket.close();
    this.#outbound = [];
    this.#outboundBytes = 0;
    const error = new RemotingTransportError(
      `Connection to ${this.addr} closed${cause ? `: ${cause.message}` : ""}`,
      { cause },
    );
    for (const call of this.#pending.values()) {
      clearTimeout(call.timer);
      call.reject(error);
    }
    this.#pending.clear();
    this.#client.channelClosed(this);
  }
}

interface Backoff {
  failures: number;
  retryAt: number;
}

/**
 * A multiplexing remoting client.
 *
 * @example Asking a NameServer for a route
 * ```ts ignore
 * import { RemotingClient } from "./remoting_client.ts";
 * import { createRequest } from "../protocol/command.ts";
 * import { RequestCode } from "../protocol/request_code.ts";
 *
 * const client = new RemotingClient({ timeoutMs: 3000 });
 * const response = await client.invoke("127.0.0.1:9876", createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "t" }));
 * console.log(response.code);
 * await client.close();
 * ```
 */
export class RemotingClient {
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #backoffMs: number;
  readonly #backoffMaxMs: number;
  readonly #onServerRequest?: ServerRequestHandler;
  readonly #connect: Connect;
  readonly #channels = new Map<string, Promise<Channel>>();
  readonly #backoff = new Map<string, Backoff>();
  #nextOpaque = 1;
  #closed = false;

  constructor(options: RemotingClientOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 3000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.#backoffMs = options.reconnectBackoffMs ?? 100;
    this.#backoffMaxMs = options.reconnectBackoffMaxMs ?? 5000;
    if (this.#backoffMs < 0 || this.#backoffMaxMs < this.#backoffMs) {
      throw new RangeError(
        `Cannot create remoting client: reconnect backoff ${this.#backoffMs}-${this.#backoffMaxMs} ms is not a range`,
      );
    }
    this.#onServerRequest = options.onServerRequest;
    this.#connect = options.connect ?? defaultConnect;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `request` to `addr` and awaits the response.
   *
   * @throws {RemotingTransportError} when the connection fails or the call times out
   * ({@linkcode RemotingTimeoutError}).
   */
  async invoke(addr: string, request: RemotingCommand, timeoutMs = this.#timeoutMs): Promise<RemotingCommand> {
    const channel = this.#channels.get(addr);
    const ready = channel ? await channel : await this.#channel(addr);
    const command = { ...request, opaque: this.#nextOpaque++, flag: request.flag & ~ONEWAY_FLAG };
    if (this.#nextOpaque > 0x7fffffff) this.#nextOpaque = 1;
    return ready.call(command, timeoutMs);
  }

  /** Sends `request` oneway (no answer awaited); resolves once it is queued for writing. */
  async invokeOneway(addr: string, request: RemotingCommand): Promise<void> {
    const channel = await this.#channel(addr);
    channel.send({ ...request, opaque: this.#nextOpaque++, flag: request.flag | ONEWAY_FLAG });
    if (this.#nextOpaque > 0x7fffffff) this.#nextOpaque = 1;
  }

  /** The local address of the connection to `addr`, connecting if needed. */
  async localAddrTo(addr: string): Promise<string> {
    return (await this.#channel(addr)).localAddr;
  }

  /** Addresses with an open (or opening) connection. */
  connectedAddrs(): string[] {
    return [...this.#channels.keys()];
  }

  /** Closes the connection to one address; its pending calls fail. */
  async closeChannel(addr: string): Promise<void> {
    const channel = this.#channels.get(addr);
    this.#channels.delete(addr);
    if (channel) (await channel.catch(() => undefined))?.close();
  }

  /** Writes what is queued (waiting at most 1 s), then closes every connection; later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    await Promise.all(channels.map(async (pending) => {
      const channel = await pending.catch(() => undefined);
      await channel?.closeGracefully();
    }));
  }

  /** @internal */
  handleServerRequest(
    request: RemotingCommand,
    addr: string,
  ): RemotingCommand | null | Promise<RemotingCommand | null> {
    if (this.#onServerRequest) return this.#onServerRequest(request, addr);
    return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, {
      remark: ` request type ${request.code} not supported`,
    });
  }

  /** @internal */
  channelClosed(channel: Channel): void {
    const current = this.#channels.get(channel.addr);
    if (current) current.then((c) => c === channel && this.#channels.delete(channel.addr), () => {});
  }

  #channel(addr: string): Promise<Channel> {
    if (this.#closed) return Promise.reject(new RemotingTransportError("Client is closed"));
    const existing = this.#channels.get(addr);
    if (existing) return existing;
    const backoff = this.#backoff.get(addr);
    const now = Date.now();
    if (backoff && backoff.retryAt > now) {
      return Promise.reject(
        new RemotingTransportError(
          `Cannot connect to ${addr}: ${backoff.failures} failed attempts, next try in ${backoff.retryAt - now} ms`,
        ),
      );
    }
    const colon = addr.lastIndexOf(":");
    const host = addr.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(addr.slice(colon + 1));
    const pending = this.#connect(host, port, this.#connectTimeoutMs).then(
      (socket) => {
        this.#backoff.delete(addr);
        if (this.#closed) {
          socket.close();
          throw new RemotingTransportError("Client is closed");
        }
        return new Channel(addr, socket, this);
      },
      (error) => {
        this.#channels.delete(addr);
        const failures = (this.#backoff.get(addr)?.failures ?? 0) + 1;
        const waitMs = Math.min(this.#backoffMaxMs, this.#backoffMs * 2 ** Math.min(failures - 1, 20));
        this.#backoff.set(addr, { failures, retryAt: Date.now() + waitMs });
        throw new RemotingTransportError(`Cannot connect to ${addr}: ${(error as Error).message}`, { cause: error });
      },
    );
    this.#channels.set(addr, pending);
    return pending;
  }
}
