/**
 * Redis Streams peer: a fresh `redis-server` per durability mode (`appendonly yes`,
 * `appendfsync everysec` or `always`, automatic AOF rewrite off so the steady append path is
 * measured), on a free port with a temporary directory.
 *
 * - produce: `redis-benchmark -c 1 -P 64 XADD` (Redis's own C client, 64 commands pipelined);
 *   its latency figures are per pipelined request as redis-benchmark reports them.
 * - latency: `redis-benchmark -c 1 -P 1 XADD`, one command at a time.
 * - consume: `XREAD COUNT <pullBatch>` from a raw RESP reader written here (a resumable parser
 *   over the socket bytes), until the stream is read.
 *
 * @module
 */

import type { BenchRow } from "../_report.ts";
import { Progress, status } from "../_report.ts";
import { cpuBetween, sampleProcess } from "../_stats.ts";
import type { Workload } from "../denomq.ts";
import { ensureInstalled, freePort, type PeerProcess, runToCompletion, spawnServer, waitForPort } from "./_util.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface RedisServer {
  port: number;
  process: PeerProcess;
  close(): Promise<void>;
}

async function startRedisServer(fsync: string, parent?: string): Promise<RedisServer> {
  const dir = await Deno.makeTempDir({ dir: parent, prefix: `denomq-bench-redis-${fsync}-` });
  const port = freePort();
  const process = spawnServer("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "yes",
    "--appendfsync",
    fsync,
    "--auto-aof-rewrite-percentage",
    "0",
    "--logfile",
    `${dir}/redis.log`,
  ]);
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
    async close() {
      await process.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** One `redis-benchmark --csv` result. */
interface RedisBenchmarkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  seconds: number;
}

async function redisBenchmark(port: number, n: number, pipeline: number, key: string, value: string) {
  const started = performance.now();
  const csv = await runToCompletion("redis-benchmark", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-c",
    "1",
    "-P",
    String(pipeline),
    "-n",
    String(n),
    "--csv",
    "XADD",
    key,
    "*",
    "d",
    value,
  ]);
  const seconds = (performance.now() - started) / 1000;
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const last = csv.trim().split("\n").at(-1)!;
  const cells = last.split(",").map((c) => Number(c.replaceAll('"', "")));
  return { rps: cells[1], p50Ms: cells[4], p99Ms: cells[6], maxMs: cells[7], seconds } as RedisBenchmarkResult;
}

/**
 * A resumable RESP reader of XREAD replies: counts entries and body bytes and remembers the last
 * entry id, across socket chunks, without re-parsing what it has seen.
 */
class XreadParser {
  /** Per open array: elements still to come, and the index of the next one. */
  #remaining: number[] = [];
  #index: number[] = [];
  entries = 0;
  bodyBytes = 0;
  lastId = "0-0";
  /** Set when a whole reply has been read. */
  replyDone = false;
  nil = false;

  /** Consumes as much of `buf[pos, end)` as forms whole elements; returns the new position. */
  parse(buf: Uint8Array, pos: number, end: number): number {
    while (pos < end && !this.replyDone) {
      const cr = buf.indexOf(13, pos);
      if (cr < 0 || cr + 1 >= end) return pos;
      const type = buf[pos];
      let n = 0;
      let negative = false;
      for (let i = pos + 1; i < cr; i++) {
        if (buf[i] === 45) negative = true;
        else n = n * 10 + (buf[i] - 48);
      }
      if (negative) n = -n;
      if (type === 42 /* * */) {
        pos = cr + 2;
        if (n <= 0) {
          if (this.#remaining.length === 0) {
            this.nil = true;
            this.replyDone = true;
          } else this.#elementDone();
          continue;
        }
        this.#remaining.push(n);
        this.#index.push(0);
        continue;
      }
      if (type === 36 /* $ */) {
        if (n < 0) {
          pos = cr + 2;
          this.#elementDone();
          continue;
        }
        const dataStart = cr + 2;
        if (dataStart + n + 2 > end) return pos; // the whole bulk string is not here yet
        const depth = this.#remaining.length;
        // [streams] > [key, entries] > entries > [id, fields] > fields
        if (depth === 4 && this.#index[3] === 0) {
          this.lastId = decoder.decode(buf.subarray(dataStart, dataStart + n));
          this.entries++;
        } else if (depth === 5 && this.#index[4] % 2 === 1) {
          this.bodyBytes += n;
        }
        pos = dataStart + n + 2;
        this.#elementDone();
        continue;
      }
      if (type === 45 /* - */) throw new Error(`Redis said: ${decoder.decode(buf.subarray(pos, cr))}`);
      pos = cr + 2; // +simple or :integer
      if (this.#remaining.length === 0) this.replyDone = true;
      else this.#elementDone();
    }
    return pos;
  }

  #elementDone(): void {
    while (this.#remaining.length > 0) {
      const top = this.#remaining.length - 1;
      this.#index[top]++;
      if (--this.#remaining[top] > 0) return;
      this.#remaining.pop();
      this.#index.pop();
    }
    this.replyDone = true;
  }

  nextReply(): void {
    this.replyDone = false;
    this.nil = false;
  }
}

/** Reads the whole stream `key` with XREAD COUNT `batch`; `onBatch` sees the running totals. */
async function xreadAll(
  port: number,
  key: string,
  total: number,
  batch: number,
  onProgress: (entries: number, bytes: number) => void,
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  let buf = new Uint8Array(4 * 1024 * 1024);
  let start = 0;
  let end = 0;
  const parser = new XreadParser();
  try {
    while (parser.entries < total) {
      const command = `XREAD COUNT ${batch} STREAMS ${key} ${parser.lastId}`;
      const args = command.split(" ");
      await conn.write(encoder.encode(`*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join("")}`));
      parser.nextReply();
      while (!parser.replyDone) {
        if (buf.length - end < 256 * 1024) {
          const held = end - start;
          const next = held + 512 * 1024 > buf.length ? new Uint8Array(buf.length * 2) : buf;
          next.set(buf.subarray(start, end));
          buf = next;
          start = 0;
          end = held;
        }
        const n = await conn.read(buf.subarray(end));
        if (n === null) throw new Error("Redis closed the connection");
        end += n;
        start = parser.parse(buf, start, end);
        onProgress(parser.entries, parser.bodyBytes);
      }
      if (parser.nil) throw new Error(`XREAD found nothing after ${parser.lastId} with ${parser.entries} read`);
    }
  } finally {
    conn.close();
  }
}

async function xlen(port: number, key: string): Promise<number> {
  const out = await runToCompletion("redis-cli", ["-p", String(port), "XLEN", key]);
  return Number(out.trim());
}

/** Runs the Redis peer in both AOF modes for the scenarios asked. */
export async function benchRedis(scenarios: string[], w: Workload, dir?: string): Promise<BenchRow[]> {
  const wanted = scenarios.filter((s) => s === "produce" || s === "consume" || s === "latency");
  if (wanted.length === 0) return [];
  const missing = await ensureInstalled(["redis-server", "redis-benchmark", "redis-cli"], [
    "redis-server",
    "redis-tools",
  ]);
  if (missing) {
    return [{
      system: "redis",
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
  const value = "x".repeat(w.size);
  const rows: BenchRow[] = [];
  for (const fsync of ["everysec", "always"]) {
    const mode = `AOF ${fsync}`;
    const server = await startRedisServer(fsync, dir);
    try {
      if (wanted.includes("produce") || wanted.includes("consume")) {
        status(`redis ${mode}: redis-benchmark -c 1 -P 64 XADD × ${w.messages.toLocaleString("en-US")}`);
        const before = sampleProcess(server.process.pid);
        const r = await redisBenchmark(server.port, w.messages, 64, "bench", value);
        const cpu = cpuBetween(before, sampleProcess(server.process.pid), w.messages);
        if (wanted.includes("produce")) {
          rows.push({
            system: "redis",
            scenario: "produce",
            mode,
            client: "redis-benchmark -c 1 -P 64 XADD",
            messages: w.messages,
            seconds: w.messages / r.rps,
            msgsPerSec: r.rps,
            mbPerSec: (r.rps * w.size) / 1e6,
            p50Ms: r.p50Ms,
            p99Ms: r.p99Ms,
            maxMs: r.maxMs,
            serverCpuUsPerMsg: cpu?.cpuUsPerMsg,
            serverRssMiB: sampleProcess(server.process.pid)?.rssMiB,
            errors: 0,
          });
        }
        if (wanted.includes("consume") && fsync === "everysec") {
          const total = await xlen(server.port, "bench");
          let entries = 0;
          let bytes = 0;
          const progress = new Progress(`redis consume`, () => ({ count: entries, bytes }));
          const beforeRead = sampleProcess(server.process.pid);
          const started = performance.now();
          await xreadAll(server.port, "bench", total, w.pullBatch, (e, b) => {
            entries = e;
            bytes = b;
          });
          const seconds = (performance.now() - started) / 1000;
          progress.stop();
          rows.push({
            system: "redis",
            scenario: "consume",
            mode,
            client: `raw RESP XREAD COUNT ${w.pullBatch}`,
            messages: entries,
            seconds,
            msgsPerSec: entries / seconds,
            mbPerSec: bytes / seconds / 1e6,
            serverCpuUsPerMsg: cpuBetween(beforeRead, sampleProcess(server.process.pid), entries)?.cpuUsPerMsg,
            serverRssMiB: sampleProcess(server.process.pid)?.rssMiB,
            errors: 0,
          });
        }
      }
      if (wanted.includes("latency")) {
        const r = await redisBenchmark(server.port, w.latencyMessages, 1, "lat", value);
        rows.push({
          system: "redis",
          scenario: "latency",
          mode,
          client: "redis-benchmark -c 1 -P 1 XADD",
          messages: w.latencyMessages,
          seconds: r.seconds,
          msgsPerSec: r.rps,
          mbPerSec: (r.rps * w.size) / 1e6,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          maxMs: r.maxMs,
          errors: 0,
        });
      }
    } finally {
      await server.close();
    }
  }
  return rows;
}
