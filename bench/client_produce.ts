/**
 * `deno task bench produce`: producer throughput of denomq's TypeScript client
 * (`client/producer.ts`): one producer keeps `--inflight` sends outstanding (default 256) of
 * `--body` bytes (1024) against a NameServer, for `--seconds` (10) after a warm-up, with a live
 * progress line and a summary (`produceMsgsPerSec`, `ackP50ms`, `ackP99ms`, and the client
 * process's CPU use, which shows whether the client or the broker is the bottleneck).
 *
 * `--fake-broker` starts a stand-in NameServer + broker in a child process (it answers every
 * send at once, without storing anything), so the figure is the client's own ceiling.
 *
 * Options: `--namesrv ADDR` (127.0.0.1:9876), `--topic NAME` (BenchClientProduce),
 * `--inflight N` (256), `--body BYTES` (1024), `--seconds S` (10), `--warmup-seconds S` (2),
 * `--messages N` (stop after N instead of a time), `--fake-broker`, `--json`.
 *
 * Profile the client with `deno run -A --cpu-prof --cpu-prof-dir=prof bench/client_produce.ts …`.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { encodeFrame, FrameDecoder } from "../protocol/frame.ts";
import { createResponse, type RemotingCommand } from "../protocol/command.ts";
import { encodeJsonBody } from "../protocol/bodies.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { Producer } from "../client/producer.ts";
import { silentLogger } from "../client/_log.ts";

interface ProduceBenchOptions {
  namesrv: string;
  topic: string;
  inflight: number;
  bodyBytes: number;
  seconds: number;
  warmupSeconds: number;
  messages: number;
  fakeBroker: boolean;
  json: boolean;
}

const USAGE = `Usage: deno task bench produce [--namesrv 127.0.0.1:9876] [--topic BenchClientProduce]
  [--inflight 256] [--body 1024] [--seconds 10] [--warmup-seconds 2] [--messages N] [--fake-broker] [--json]`;

function readOptions(args: string[]): ProduceBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      namesrv: { type: "string", default: "127.0.0.1:9876" },
      topic: { type: "string", default: "BenchClientProduce" },
      inflight: { type: "string", default: "256" },
      body: { type: "string", default: "1024" },
      seconds: { type: "string", default: "10" },
      "warmup-seconds": { type: "string", default: "2" },
      messages: { type: "string", default: "0" },
      "fake-broker": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const number = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) {
      throw new RangeError(`Invalid --${name}: expected a number >= ${min}, got "${text}"`);
    }
    return n;
  };
  return {
    namesrv: values.namesrv!,
    topic: values.topic!,
    inflight: number("inflight", values.inflight!, 1),
    bodyBytes: number("body", values.body!, 1),
    seconds: number("seconds", values.seconds!, 0.1),
    warmupSeconds: number("warmup-seconds", values["warmup-seconds"]!, 0),
    messages: number("messages", values.messages!, 0),
    fakeBroker: values["fake-broker"]!,
    json: values.json!,
  };
}

/**
 * Ack latencies in a fixed histogram: 10 µs buckets up to 100 ms, then 1 ms buckets up to 10 s,
 * so recording costs no allocation.
 */
class LatencyHistogram {
  static readonly FINE_BUCKETS = 10_000;
  static readonly COARSE_BUCKETS = 9_900;
  readonly #counts = new Float64Array(LatencyHistogram.FINE_BUCKETS + LatencyHistogram.COARSE_BUCKETS + 1);
  count = 0;

  record(ms: number): void {
    let bucket: number;
    if (ms < 100) bucket = Math.floor(ms * 100);
    else bucket = Math.min(LatencyHistogram.FINE_BUCKETS + Math.floor(ms - 100), this.#counts.length - 1);
    this.#counts[bucket]++;
    this.count++;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    const target = Math.ceil(this.count * p);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i];
      if (seen >= target) {
        return i < LatencyHistogram.FINE_BUCKETS ? (i + 1) / 100 : 100 + (i - LatencyHistogram.FINE_BUCKETS + 1);
      }
    }
    return Infinity;
  }

  reset(): void {
    this.#counts.fill(0);
    this.count = 0;
  }
}

const encoder = new TextEncoder();

function progressLine(line: string): void {
  try {
    process.stderr.write(`\r${line.padEnd(100)}`);
  } catch {
    // stderr closed: progress is optional
  }
}

/** Runs the produce benchmark with command-line `args`. */
export async function runProduceBench(args: string[]): Promise<void> {
  const options = readOptions(args);
  let fake: FakeBrokerProcess | undefined;
  if (options.fakeBroker) {
    fake = await startFakeBrokerProcess();
    options.namesrv = fake.addr;
  }
  const producer = new Producer({
    nameServer: options.namesrv,
    group: "BenchClientProducer",
    producerInflightMax: options.inflight,
    logger: silentLogger,
    defaultTopicQueueNums: 8,
  });
  const body = new Uint8Array(options.bodyBytes);
  for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
  const message = { topic: options.topic, body, tags: "bench" };
  try {
    await producer.send(message); // creates the topic and warms the route cache
    const histogram = new LatencyHistogram();
    let errors = 0;
    let lastError = "";
    let completed = 0;
    let measuring = options.warmupSeconds === 0;
    let measuredStart = performance.now();
    let measuredCompleted = 0;
    const benchStart = performance.now();
    const warmupEndMs = options.warmupSeconds * 1000;
    const runEndMs = warmupEndMs + options.seconds * 1000;
    let cpuStart = process.cpuUsage();

    let lastTick = performance.now();
    let lastCompleted = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      const rate = ((completed - lastCompleted) * 1000) / (now - lastTick);
      lastTick = now;
      lastCompleted = completed;
      progressLine(
        `  ${measuring ? "produce" : "warm-up"}  ${completed.toLocaleString("en-US")} acked  ${
          Math.round(rate).toLocaleString("en-US")
        } msgs/s  p50 ${histogram.percentile(0.5).toFixed(2)} ms  p99 ${
          histogram.percentile(0.99).toFixed(2)
        } ms  errors ${errors}`,
      );
    }, 1000);

    const onDone = (started: number) => (error: Error | undefined) => {
      completed++;
      if (error) {
        errors++;
        lastError = error.message;
        return;
      }
      if (measuring) {
        histogram.record(performance.now() - started);
        measuredCompleted++;
      }
    };
    let sent = 0;
    while (true) {
      const elapsed = performance.now() - benchStart;
      if (!measuring && elapsed >= warmupEndMs) {
        measuring = true;
        histogram.reset();
        measuredStart = performance.now();
        measuredCompleted = 0;
        cpuStart = process.cpuUsage();
      }
      if (options.messages > 0 ? sent >= options.messages : elapsed >= runEndMs) break;
      await producer.sendAsync(message, onDone(performance.now()));
      sent++;
    }
    while (producer.inflight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const measuredMs = performance.now() - measuredStart;
    const cpu = process.cpuUsage(cpuStart);
    clearInterval(ticker);
    progressLine("");
    process.stderr.write("\r");
    const summary = {
      scenario: "client-produce",
      target: options.fakeBroker ? "fake broker (client ceiling)" : options.namesrv,
      bodyBytes: options.bodyBytes,
      inflight: options.inflight,
      messages: measuredCompleted,
      seconds: Number((measuredMs / 1000).toFixed(2)),
      produceMsgsPerSec: Math.round((measuredCompleted * 1000) / measuredMs),
      produceMiBPerSec: Number(((measuredCompleted * options.bodyBytes * 1000) / measuredMs / 1024 / 1024).toFixed(1)),
      ackP50ms: histogram.percentile(0.5),
      ackP99ms: histogram.percentile(0.99),
      ackMaxMs: histogram.percentile(1),
      errors,
      lastError: lastError || undefined,
      clientCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / measuredMs) * 100),
      clientCpuUsPerMsg: Number(((cpu.user + cpu.system) / Math.max(1, measuredCompleted)).toFixed(2)),
      clientRssMiB: Math.round(process.memoryUsage().rss / 1024 / 1024),
    };
    if (options.json) {
      console.log(JSON.stringify(summary));
    } else {
      console.log(
        [
          `client produce → ${summary.target}`,
          `  ${
            summary.messages.toLocaleString("en-US")
          } msgs of ${summary.bodyBytes} B, ${summary.inflight} in flight, ${summary.seconds} s`,
          `  ${summary.produceMsgsPerSec.toLocaleString("en-US")} msgs/s (${summary.produceMiBPerSec} MiB/s)`,
          `  ack p50 ${summary.ackP50ms} ms  p99 ${summary.ackP99ms} ms  max ${summary.ackMaxMs} ms`,
          `  client CPU ${summary.clientCpuPercent}% of one core (${summary.clientCpuUsPerMsg} µs per message: a ceiling of ${
            Math.round(1e6 / Math.max(0.01, summary.clientCpuUsPerMsg)).toLocaleString("en-US")
          } msgs/s per core), RSS ${summary.clientRssMiB} MiB, errors ${errors}`,
        ].join("\n"),
      );
      console.log(JSON.stringify(summary));
    }
  } finally {
    await producer.shutdown();
    await fake?.close();
  }
}

// ---- the stand-in broker for --fake-broker ----

interface FakeBrokerProcess {
  addr: string;
  close(): Promise<void>;
}

async function startFakeBrokerProcess(): Promise<FakeBrokerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--serve-fake-broker"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The fake broker exited before it was ready");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { addr } = JSON.parse(text.split("\n")[0]) as { addr: string };
  return {
    addr,
    async close() {
      child.kill("SIGTERM");
      await child.stdout.cancel().catch(() => {});
      await child.status;
    },
  };
}

/**
 * Serves NameServer and broker in one: every topic routes to this address with 8 queues, and
 * every send is acknowledged at once with increasing queue offsets.
 */
async function serveFakeBroker(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const addr = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const route = encodeJsonBody({
    brokerDatas: [{ brokerAddrs: { "0": addr }, brokerName: "fake-broker", cluster: "FakeCluster" }],
    filterServerTable: {},
    queueDatas: [{ brokerName: "fake-broker", perm: 6, readQueueNums: 8, topicSysFlag: 0, writeQueueNums: 8 }],
  });
  console.log(JSON.stringify({ addr }));
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  let queueOffset = 0;
  const answer = (request: RemotingCommand): Uint8Array | undefined => {
    if ((request.flag & 2) !== 0) return undefined;
    if (request.code === RequestCode.SEND_MESSAGE_V2 || request.code === RequestCode.SEND_BATCH_MESSAGE) {
      const opaque = request.opaque;
      const queueId = request.extFields.e ?? "0";
      const offset = queueOffset++;
      return encoder.encode(
        `{"code":0,"extFields":{"msgId":"7F00000100002A9F${offset.toString(16).toUpperCase().padStart(16, "0")}",` +
          `"queueId":"${queueId}","queueOffset":"${offset}","MSG_REGION":"DefaultRegion","TRACE_ON":"true"},` +
          `"flag":1,"language":"JAVA","opaque":${opaque},"serializeTypeCurrentRPC":"JSON","version":407}`,
      );
    }
    const body = request.code === RequestCode.GET_ROUTEINFO_BY_TOPIC ? route : undefined;
    return encodeFrame(createResponse(request, 0, { body }));
  };
  for await (const conn of listener) {
    (async () => {
      const decoder = new FrameDecoder();
      const buffer = new Uint8Array(256 * 1024);
      try {
        while (true) {
          const n = await conn.read(buffer);
          if (n === null) break;
          const parts: Uint8Array[] = [];
          let bytes = 0;
          for (const request of decoder.push(buffer.subarray(0, n))) {
            const reply = answer(request);
            if (!reply) continue;
            if (request.code === RequestCode.SEND_MESSAGE_V2 || request.code === RequestCode.SEND_BATCH_MESSAGE) {
              const frame = new Uint8Array(8 + reply.length);
              const view = new DataView(frame.buffer);
              view.setInt32(0, 4 + reply.length);
              view.setInt32(4, reply.length);
              frame.set(reply, 8);
              parts.push(frame);
              bytes += frame.length;
            } else {
              parts.push(reply);
              bytes += reply.length;
            }
          }
          if (parts.length === 0) continue;
          const out = new Uint8Array(bytes);
          let pos = 0;
          for (const part of parts) {
            out.set(part, pos);
            pos += part.length;
          }
          for (let written = 0; written < out.length;) written += await conn.write(out.subarray(written));
        }
      } catch {
        // client went away
      } finally {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    })();
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--serve-fake-broker") await serveFakeBroker();
  else await runProduceBench(Deno.args);
}
