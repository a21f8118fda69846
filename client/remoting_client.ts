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

import { type AclCredentials, signCommand } from "../protocol/acl_signature.ts";
import { setImmediate } from "node:timers";
import {
  createResponse,
  isOneway,
  isResponse,
  ONEWAY_FLAG,
  type RemotingCommand,
  SerializeType,
  type SerializeTypeValue,
} from "../protocol/command.ts";
import { binaryHeaderBytesMax, encodeBinaryHeaderInto, FrameDecoder, jsonHeaderText } from "../protocol/frame.ts";
import { frameBytesMax } from "../protocol/limits.ts";
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
  /** Signs every request with these ACL 1.0 credentials (RocketMQ `AclClientRPCHook`). */
  credentials?: AclCredentials;
  /**
   * Header serialization of every request sent (the broker answers in the same): `ROCKETMQ`
   * binary headers (Java's `rocketmq.serialize.type=ROCKETMQ`) or `JSON`. Default: each
   * request's own (JSON from `createRequest`).
   */
  serializeType?: SerializeTypeValue;
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
  /** Own timer of a short call; long calls are expired by the channel's sweep. */
  timer: ReturnType<typeof setTimeout> | undefined;
  deadline: number;
  code: number;
  timeoutMs: number;
}

/**
 * Calls with at least this timeout share one sweep timer per connection instead of a timer each
 * (a timer per send is measurable at 100k sends/s); they expire up to {@linkcode SWEEP_INTERVAL_MS} late.
 */
const SWEPT_TIMEOUT_MS_MIN = 1000;
/** Period of the timeout sweep. */
const SWEEP_INTERVAL_MS = 100;

/** How long `close()` waits for queued frames (offset commits, unregistrations) to be written. */
const CLOSE_FLUSH_WAIT_MS = 1000;

/** Starting size of a connection's outbound buffers. */
const OUTBOUND_BYTES_INITIAL = 64 * 1024;
/** An outbound buffer grown past this (a large message) is replaced after its write. */
const OUTBOUND_BYTES_RETAINED_MAX = 4 * 1024 * 1024;

const textEncoder = new TextEncoder();

/**
 * Frames waiting to be written, encoded straight into one reusable buffer: the JSON header
 * with `encodeInto`, then the body, so a send allocates no per-frame byte arrays and a flush
 * writes one contiguous chunk.
 */
class OutboundBuffer {
  #bytes = new Uint8Array(OUTBOUND_BYTES_INITIAL);
  #view = new DataView(this.#bytes.buffer);
  length = 0;

  /**
   * Appends `command` as a frame.
   *
   * @throws {RangeError} when the frame would exceed `frameBytesMax` (nothing is appended).
   */
  append(command: RemotingCommand): void {
    const body = command.body;
    const bodyLength = body?.length ?? 0;
    const start = this.length;
    let written: number;
    if (command.serializeType === SerializeType.ROCKETMQ) {
      this.#reserve(8 + binaryHeaderBytesMax(command) + bodyLength);
      written = encodeBinaryHeaderInto(command, this.#bytes, start + 8);
    } else {
      const text = jsonHeaderText(command);
      this.#reserve(8 + text.length * 3 + bodyLength);
      written = textEncoder.encodeInto(text, this.#bytes.subarray(start + 8)).written;
    }
    const total = 8 + written + bodyLength;
    if (total > frameBytesMax) {
      throw new RangeError(
        `Cannot encode command ${command.code}: frame is ${total} bytes, limit is ${frameBytesMax} bytes`,
      );
    }
    this.#view.setInt32(start, total - 4);
    this.#view.setInt32(start + 4, (command.serializeType << 24) | written);
    if (body && bodyLength > 0) this.#bytes.set(body, start + 8 + written);
    this.length = start + total;
  }

  /** The frames appended so far. */
  contents(): Uint8Array {
    return this.#bytes.subarray(0, this.length);
  }

  /** Empties the buffer once its contents are written. */
  clear(): void {
    this.length = 0;
    if (this.#bytes.length > OUTBOUND_BYTES_RETAINED_MAX) {
      this.#bytes = new Uint8Array(OUTBOUND_BYTES_INITIAL);
      this.#view = new DataView(this.#bytes.buffer);
    }
  }

  #reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.length));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }
}

class Channel {
  readonly addr: string;
  readonly #socket: Socket;
  readonly #pending = new Map<number, PendingCall>();
  readonly #client: RemotingClient;
  /** Frames queued while the other buffer is being written. */
  #filling = new OutboundBuffer();
  #spare = new OutboundBuffer();
  #writing: Promise<void> | undefined;
  #flushScheduled = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;
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
      // Queue the frame first: if it cannot be encoded, nothing is registered. The write happens
      // in a later macrotask, so the answer cannot arrive before the call is registered below.
      this.send(command);
      const call: PendingCall = {
        resolve,
        reject,
        timer: undefined,
        deadline: Date.now() + timeoutMs,
        code: command.code,
        timeoutMs,
      };
      if (timeoutMs < SWEPT_TIMEOUT_MS_MIN) {
        call.timer = setTimeout(() => this.#expire(command.opaque, call), timeoutMs);
      } else {
        this.#sweeper ??= setInterval(this.#sweep, SWEEP_INTERVAL_MS);
      }
      this.#pending.set(command.opaque, call);
    });
  }

  #expire(opaque: number, call: PendingCall): void {
    this.#pending.delete(opaque);
    clearTimeout(call.timer);
    call.reject(
      new RemotingTimeoutError(`${requestCodeName(call.code)} to ${this.addr} timed out after ${call.timeoutMs} ms`),
    );
  }

  readonly #sweep = (): void => {
    const now = Date.now();
    let swept = 0;
    for (const [opaque, call] of this.#pending) {
      if (call.timer !== undefined) continue;
      if (call.deadline <= now) this.#expire(opaque, call);
      else swept++;
    }
    if (swept === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  };

  send(command: RemotingCommand): void {
    if (this.closed) throw new RemotingTransportError(`Connection to ${this.addr} is closed`);
    this.#filling.append(command);
    // Write after the current burst of work (setImmediate runs once pending I/O callbacks and
    // microtasks are done), so frames queued by many sends or responses go out in one write.
    if (!this.#writing && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#startFlush);
    }
  }

  readonly #startFlush = (): void => {
    this.#flushScheduled = false;
    if (!this.#writing && !this.closed) this.#writing = this.#flush();
  };

  async #flush(): Promise<void> {
    try {
      while (this.#filling.length > 0 && !this.closed) {
        const out = this.#filling;
        this.#filling = this.#spare;
        this.#spare = out;
        await this.#socket.write(out.contents());
        out.clear();
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
    if (this.#flushScheduled) this.#startFlush();
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
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#socket.close();
    this.#filling.clear();
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
  /** Connected channels, for the synchronous fast path of `invoke()`. */
  readonly #open = new Map<string, Channel>();
  readonly #backoff = new Map<string, Backoff>();
  #nextOpaque = 1;
  #closed = false;

  readonly #credentials: AclCredentials | undefined;
  readonly #serializeType: SerializeTypeValue | undefined;

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
    this.#credentials = options.credentials;
    this.#serializeType = options.serializeType;
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
  invoke(addr: string, request: RemotingCommand, timeoutMs = this.#timeoutMs): Promise<RemotingCommand> {
    const channel = this.#open.get(addr);
    if (channel && !channel.closed) return channel.call(this.#stamp(request, 0), timeoutMs);
    return this.#channel(addr).then((ready) => ready.call(this.#stamp(request, 0), timeoutMs));
  }

  /** A copy of `request` with a fresh opaque and the oneway bit set or cleared. */
  #stamp(request: RemotingCommand, oneway: number): RemotingCommand {
    const opaque = this.#nextOpaque++;
    if (this.#nextOpaque > 0x7fffffff) this.#nextOpaque = 1;
    if (this.#credentials) request = signCommand(request, this.#credentials);
    return {
      code: request.code,
      language: request.language,
      version: request.version,
      opaque,
      flag: (request.flag & ~ONEWAY_FLAG) | oneway,
      remark: request.remark,
      extFields: request.extFields,
      body: request.body,
      serializeType: this.#serializeType ?? request.serializeType,
    };
  }

  /** Sends `request` oneway (no answer awaited); resolves once it is queued for writing. */
  async invokeOneway(addr: string, request: RemotingCommand): Promise<void> {
    const channel = await this.#channel(addr);
    channel.send(this.#stamp(request, ONEWAY_FLAG));
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
    this.#open.delete(addr);
    if (channel) (await channel.catch(() => undefined))?.close();
  }

  /** Writes what is queued (waiting at most 1 s), then closes every connection; later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    this.#open.clear();
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
    if (this.#open.get(channel.addr) === channel) this.#open.delete(channel.addr);
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
        const channel = new Channel(addr, socket, this);
        this.#open.set(addr, channel);
        return channel;
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
