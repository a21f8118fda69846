/**
 * NATS JetStream peer: a fresh `nats-server -js` (file store, server defaults) on a free port
 * with a temporary store, driven by a minimal raw-protocol client written here. The nats.js
 * client tops out near 21k msgs/s on this machine kind, about 7× below the server, so it would
 * measure itself; this client parses control lines as bytes and writes whole windows at once.
 *
 * - produce: `PUB bench.a _R.<i>` with a reply subject per message, at most `inflight`
 *   outstanding, each PubAck counted with its latency.
 * - consume: a durable pull consumer (AckPolicy none) drained with `CONSUMER.MSG.NEXT` batches of
 *   `pullBatch`, the next batch asked for at half of the current one (as nats.js `consume()`).
 * - latency: the publisher with a window of 1.
 *
 * @module
 */

import type { BenchRow } from "../_report.ts";
import { Progress, status } from "../_report.ts";
import { cpuBetween, LatencyHistogram, sampleProcess } from "../_stats.ts";
import type { Workload } from "../denomq.ts";
import { ensureInstalled, freePort, type PeerProcess, runToCompletion, spawnServer, waitForPort } from "./_util.ts";

const CR = 13;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const READ_BUFFER_BYTES = 256 * 1024;
const API_TIMEOUT_MS = 10_000;

/** A message delivered to a subscription: control line and payload positions in `buf`. */
type OnMessage = (
  buf: Uint8Array,
  lineStart: number,
  lineEnd: number,
  payloadStart: number,
  payloadLength: number,
  withHeaders: boolean,
) => void;

/** Parses a decimal number written in `buf[from, to)`. */
function digits(buf: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (buf[i] - 48);
  return n;
}

/** A raw NATS connection: CONNECT/PING, PUB, SUB, and a byte-level parser of MSG/HMSG. */
class RawNats {
  readonly #conn: Deno.Conn;
  #buf = new Uint8Array(READ_BUFFER_BYTES);
  #start = 0;
  #end = 0;
  #onMessage: OnMessage = () => {};
  #pongWaiters: (() => void)[] = [];
  #inboxes = new Map<string, (payload: string) => void>();
  #nextInbox = 1;
  #closed = false;
  readonly done: Promise<void>;
  errors: string[] = [];

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.done = this.#readLoop();
  }

  static async connect(port: number): Promise<RawNats> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const nats = new RawNats(conn);
    await nats.write(
      'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\n' +
        "SUB _INBOX.api.* 900\r\n",
    );
    await nats.ping();
    return nats;
  }

  set onMessage(handler: OnMessage) {
    this.#onMessage = handler;
  }

  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let written = 0; written < bytes.length;) written += await this.#conn.write(bytes.subarray(written));
  }

  /** Round trip: everything written before it has been processed by the server. */
  async ping(): Promise<void> {
    const pong = new Promise<void>((resolve) => this.#pongWaiters.push(resolve));
    await this.write("PING\r\n");
    await pong;
  }

  /** A JetStream API request; resolves with the parsed JSON answer. */
  async api(subject: string, body: unknown): Promise<Record<string, unknown>> {
    const inbox = `_INBOX.api.${this.#nextInbox++}`;
    const payload = encoder.encode(body === undefined ? "" : JSON.stringify(body));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<string>((resolve, reject) => {
      this.#inboxes.set(inbox, resolve);
      timer = setTimeout(() => reject(new Error(`NATS ${subject} timed out`)), API_TIMEOUT_MS);
    });
    const head = encoder.encode(`PUB ${subject} ${inbox} ${payload.length}\r\n`);
    const frame = new Uint8Array(head.length + payload.length + 2);
    frame.set(head);
    frame.set(payload, head.length);
    frame.set([13, 10], head.length + payload.length);
    await this.write(frame);
    try {
      const parsed = JSON.parse(await answer) as Record<string, unknown>;
      if (parsed.error) throw new Error(`NATS ${subject}: ${JSON.stringify(parsed.error)}`);
      return parsed;
    } finally {
      clearTimeout(timer);
      this.#inboxes.delete(inbox);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        if (this.#buf.length - this.#end < 64 * 1024) this.#compact();
        const n = await this.#conn.read(this.#buf.subarray(this.#end));
        if (n === null) return;
        this.#end += n;
        this.#parse();
      }
    } catch (error) {
      if (!this.#closed) this.errors.push(String(error));
    } finally {
      for (const waiter of this.#pongWaiters.splice(0)) waiter();
    }
  }

  #compact(): void {
    const held = this.#end - this.#start;
    if (this.#start > 0 && held + 64 * 1024 <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, held + 128 * 1024));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = held;
  }

  #parse(): void {
    const buf = this.#buf;
    const end = this.#end;
    let pos = this.#start;
    while (pos < end) {
      const cr = buf.indexOf(CR, pos);
      if (cr < 0 || cr + 1 >= end) break;
      const op = buf[pos];
      if (op === 77 /* M */ || op === 72 /* H */) {
        // MSG <subject> <sid> [reply] <#bytes> | HMSG <subject> <sid> [reply] <#hdr> <#total>
        let sizeStart = cr;
        while (buf[sizeStart - 1] !== 32) sizeStart--;
        const size = digits(buf, sizeStart, cr);
        const payloadStart = cr + 2;
        if (payloadStart + size + 2 > end) break; // wait for the whole payload
        this.#deliver(buf, pos, cr, payloadStart, size, op === 72);
        pos = payloadStart + size + 2;
        continue;
      }
      const line = decoder.decode(buf.subarray(pos, cr));
      pos = cr + 2;
      if (line === "PING") void this.write("PONG\r\n");
      else if (line === "PONG") this.#pongWaiters.shift()?.();
      else if (line.startsWith("-ERR")) this.errors.push(line);
    }
    this.#start = pos;
    if (pos === end) this.#start = this.#end = 0;
  }

  #deliver(buf: Uint8Array, lineStart: number, lineEnd: number, payloadStart: number, size: number, h: boolean) {
    // "_INBOX.api." answers go to api(); everything else to the bench's handler.
    const subjectStart = lineStart + (h ? 5 : 4);
    if (buf[subjectStart] === 95 /* _ */ && buf[subjectStart + 1] === 73 /* I */) {
      const line = decoder.decode(buf.subarray(lineStart, lineEnd)).split(" ");
      const resolve = this.#inboxes.get(line[1]);
      let payload = decoder.decode(buf.subarray(payloadStart, payloadStart + size));
      if (h) payload = payload.slice(payload.indexOf("\r\n\r\n") + 4);
      resolve?.(payload);
      return;
    }
    this.#onMessage(buf, lineStart, lineEnd, payloadStart, size, h);
  }
}

/** A running nats-server with JetStream and a temporary store. */
interface NatsServer {
  port: number;
  process: PeerProcess;
  dir: string;
  close(): Promise<void>;
}

async function startNatsServer(parent?: string): Promise<NatsServer> {
  const dir = await Deno.makeTempDir({ dir: parent, prefix: "denomq-bench-nats-" });
  const port = freePort();
  const conf = `${dir}/nats.conf`;
  await Deno.writeTextFile(conf, `listen: 127.0.0.1:${port}\njetstream {\n  store_dir: "${dir}/js"\n}\n`);
  const process = spawnServer("nats-server", ["-c", conf, "-l", `${dir}/nats.log`]);
  try {
    await waitForPort(port);
  } catch (error) {
    await process.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  return {
    port,
    process,
    dir,
    async close() {
      await process.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

const STREAM = "BENCH";

async function createStream(nats: RawNats): Promise<void> {
  await nats.api(`$JS.API.STREAM.DELETE.${STREAM}`, undefined).catch(() => {});
  await nats.api(`$JS.API.STREAM.CREATE.${STREAM}`, {
    name: STREAM,
    subjects: ["bench.>"],
    storage: "file",
    num_replicas: 1,
  });
}

/**
 * Publishes `count` messages with at most `window` awaiting their PubAck; `onAck` sees each
 * latency. Resolves when every PubAck arrived.
 */
async function publish(
  nats: RawNats,
  count: number,
  size: number,
  window: number,
  onAck: (ms: number) => void,
): Promise<{ errors: number }> {
  const sentAt = new Float64Array(count);
  const payload = new Uint8Array(size).fill(0x61);
  let next = 0;
  let acked = 0;
  let errors = 0;
  let writing = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => resolveDone = resolve);
  const pump = async () => {
    if (writing) return;
    writing = true;
    try {
      while (next < count && next - acked < window) {
        const parts: Uint8Array[] = [];
        let bytes = 0;
        while (next < count && next - acked < window) {
          sentAt[next] = performance.now();
          const head = encoder.encode(`PUB bench.a _R.${next} ${size}\r\n`);
          parts.push(head, payload, CRLF);
          bytes += head.length + size + 2;
          next++;
        }
        const out = new Uint8Array(bytes);
        let at = 0;
        for (const part of parts) {
          out.set(part, at);
          at += part.length;
        }
        await nats.write(out);
      }
    } finally {
      writing = false;
    }
  };
  nats.onMessage = (buf, lineStart, _lineEnd, payloadStart, payloadLength, withHeaders) => {
    // MSG _R.<i> 1 <#bytes>
    let i = lineStart + 7;
    let index = 0;
    while (buf[i] !== 32) index = index * 10 + (buf[i++] - 48);
    if (withHeaders || buf[payloadStart + 2] === 101 /* {"error"… */) errors++;
    else onAck(performance.now() - sentAt[index]);
    void payloadLength;
    acked++;
    if (acked === count) resolveDone();
    else if (!writing) void pump();
  };
  await nats.write("SUB _R.* 1\r\n");
  await nats.ping();
  void pump();
  await done;
  await nats.write("UNSUB 1\r\n");
  return { errors };
}

const CRLF = new Uint8Array([13, 10]);

/** Drains the stream with a durable pull consumer; returns msgs and the time from first to last. */
async function drain(
  nats: RawNats,
  count: number,
  batch: number,
  onMessage: (bytes: number) => void,
): Promise<void> {
  await nats.api(`$JS.API.CONSUMER.DURABLE.CREATE.${STREAM}.bench`, {
    stream_name: STREAM,
    config: { durable_name: "bench", ack_policy: "none", deliver_policy: "all" },
  });
  const next = encoder.encode(JSON.stringify({ batch, expires: 30_000_000_000 }));
  const pull = encoder.encode(`PUB $JS.API.CONSUMER.MSG.NEXT.${STREAM}.bench _P.pull ${next.length}\r\n`);
  const request = new Uint8Array(pull.length + next.length + 2);
  request.set(pull);
  request.set(next, pull.length);
  request.set(CRLF, pull.length + next.length);
  let received = 0;
  let inBatch = 0;
  let asked = 1;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => resolveDone = resolve);
  nats.onMessage = (_buf, _lineStart, _lineEnd, _payloadStart, payloadLength, withHeaders) => {
    if (withHeaders) return; // a status (408 expired, 404 no messages): not a message
    received++;
    onMessage(payloadLength);
    if (received === count) {
      resolveDone();
      return;
    }
    inBatch++;
    // Ask for the next batch at half of the current one, so the server never waits for us.
    if (inBatch === Math.floor(batch / 2) && asked * batch < count) {
      asked++;
      void nats.write(request);
    }
    if (inBatch === batch) inBatch = 0;
  };
  await nats.write("SUB _P.pull 2\r\n");
  await nats.write(request);
  await done;
  await nats.write("UNSUB 2\r\n");
}

/** Runs the NATS peer for the scenarios asked; rows for each, or one row saying why it was skipped. */
export async function benchNats(scenarios: string[], w: Workload, dir?: string): Promise<BenchRow[]> {
  const wanted = scenarios.filter((s) => s === "produce" || s === "consume" || s === "latency");
  if (wanted.length === 0) return [];
  const missing = await ensureInstalled(["nats-server"], ["nats-server"]);
  if (missing) {
    return [{
      system: "nats",
      scenario: wanted.join("+"),
      mode: "-",
      client: "-",
      messages: 0,
      seconds: 0,
      msgsPerSec: 0,
      mbPerSec: 0,
      errors: 0,
      note: `skipped: ${missing}`,
    }];
  }
  const version = (await runToCompletion("nats-server", ["--version"])).trim();
  const rows: BenchRow[] = [];
  const mode = `JetStream file store (${version.replace("nats-server: ", "")})`;
  const server = await startNatsServer(dir);
  try {
    const nats = await RawNats.connect(server.port);
    try {
      if (wanted.includes("produce") || wanted.includes("consume")) {
        await createStream(nats);
        const histogram = new LatencyHistogram();
        const total = w.messages + w.warmup;
        if (w.warmup > 0) await publish(nats, w.warmup, w.size, w.inflight, () => {});
        status(`nats: produce ${w.messages.toLocaleString("en-US")} messages, ${w.inflight} in flight`);
        const progress = new Progress("nats produce", () => ({
          count: histogram.count,
          bytes: histogram.count * w.size,
          p99Ms: histogram.percentile(0.99),
        }));
        const before = sampleProcess(server.process.pid);
        const started = performance.now();
        const { errors } = await publish(nats, w.messages, w.size, w.inflight, (ms) => histogram.record(ms));
        const seconds = (performance.now() - started) / 1000;
        progress.stop();
        const n = histogram.count;
        if (wanted.includes("produce")) {
          rows.push({
            system: "nats",
            scenario: "produce",
            mode,
            client: `raw-protocol publisher, ${w.inflight} in flight`,
            messages: n,
            seconds,
            msgsPerSec: n / seconds,
            mbPerSec: (n * w.size) / seconds / 1e6,
            p50Ms: histogram.percentile(0.5),
            p99Ms: histogram.percentile(0.99),
            maxMs: histogram.maxMs,
            serverCpuUsPerMsg: cpuBetween(before, sampleProcess(server.process.pid), n)?.cpuUsPerMsg,
            serverRssMiB: sampleProcess(server.process.pid)?.rssMiB,
            errors,
          });
        }
        if (wanted.includes("consume")) {
          let received = 0;
          let bytes = 0;
          let firstAt = 0;
          let lastAt = 0;
          let before2 = sampleProcess(server.process.pid);
          const progress2 = new Progress("nats consume", () => ({ count: received, bytes }));
          const drainStarted = performance.now();
          await drain(nats, total, w.pullBatch, (b) => {
            received++;
            if (received === w.warmup) {
              firstAt = performance.now();
              before2 = sampleProcess(server.process.pid);
            }
            if (received > w.warmup) bytes += b;
            lastAt = performance.now();
          });
          progress2.stop();
          if (w.warmup === 0) firstAt = drainStarted; // no warm-up: count from the first pull
          const measured = received - w.warmup;
          const s = (lastAt - firstAt) / 1000;
          rows.push({
            system: "nats",
            scenario: "consume",
            mode,
            client: `raw-protocol pull consumer, ${w.pullBatch}/pull`,
            messages: measured,
            seconds: s,
            msgsPerSec: measured / s,
            mbPerSec: bytes / s / 1e6,
            serverCpuUsPerMsg: cpuBetween(before2, sampleProcess(server.process.pid), measured)?.cpuUsPerMsg,
            serverRssMiB: sampleProcess(server.process.pid)?.rssMiB,
            errors: 0,
          });
        }
      }
      if (wanted.includes("latency")) {
        await createStream(nats);
        const histogram = new LatencyHistogram();
        await publish(nats, Math.min(w.latencyMessages, 2000), w.size, 1, () => {});
        const progress = new Progress("nats latency", () => ({
          count: histogram.count,
          bytes: histogram.count * w.size,
          p99Ms: histogram.percentile(0.99),
        }));
        const started = performance.now();
        const { errors } = await publish(nats, w.latencyMessages, w.size, 1, (ms) => histogram.record(ms));
        const seconds = (performance.now() - started) / 1000;
        progress.stop();
        rows.push({
          system: "nats",
          scenario: "latency",
          mode,
          client: "raw-protocol publisher, window 1",
          messages: histogram.count,
          seconds,
          msgsPerSec: histogram.count / seconds,
          mbPerSec: (histogram.count * w.size) / seconds / 1e6,
          p50Ms: histogram.percentile(0.5),
          p99Ms: histogram.percentile(0.99),
          maxMs: histogram.maxMs,
          errors,
        });
      }
      if (nats.errors.length > 0) rows.at(-1)!.note = `server said: ${nats.errors.slice(0, 3).join("; ")}`;
    } finally {
      nats.close();
      await nats.done;
    }
  } finally {
    await server.close();
  }
  return rows;
}
