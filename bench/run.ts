/**
 * `deno task bench produce|consume|e2e|latency|all [options]`: denomq driven by its own client,
 * for SYNC_FLUSH and ASYNC_FLUSH (a fresh `main.ts dev` process with a temporary store for each),
 * or against a running cluster (`--namesrv`); with `--peers`, the same workload against NATS
 * JetStream and Redis Streams in the same run, and the ratios. Ends with a summary table and one
 * JSON line (`--json`: the JSON line only on stdout).
 *
 * Also reachable as `denomq admin bench` (running clusters only: the admin role may not start
 * processes or write files).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type BenchCluster, type FlushDiskType, runningCluster, startCluster } from "./_cluster.ts";
import { type BenchRow, jsonRow, type Ratio, ratioLine, ratioOf, status, summaryTable } from "./_report.ts";
import { benchConsume, benchE2e, benchLatency, benchProduce, type Workload } from "./denomq.ts";

/** The scenarios this runner knows, in run order. */
export const BROKER_SCENARIOS = ["produce", "consume", "e2e", "latency"] as const;
type Scenario = (typeof BROKER_SCENARIOS)[number];

export const BENCH_USAGE = `Usage: deno task bench <produce|consume|e2e|latency|all>[,…] [options]

  produce   N producers keep W sends in flight (S-byte bodies, a topic with Q queues); ack latency
  consume   drain a pre-filled backlog of --messages with a PushConsumer
  e2e       produce and consume at once; latency from send to receipt
  latency   one message at a time (window 1), unloaded

Options:
  --flush sync|async|both   flush mode(s) of the broker the bench starts [default: both]
  --namesrv <addr>          drive a running cluster instead (one run, its own flush mode)
  --messages <n>            measured messages per run [default: 500000]
  --warmup <n>              unmeasured messages first (JIT warm-up) [default: 100000]
  --size <bytes>            body size [default: 1024]
  --inflight <n>            sends in flight per producer [default: 256]
  --producers <n>           producers [default: 1]
  --queues <n>              queues of the bench topic [default: 8]
  --pull-batch <n>          messages per pull (consume, e2e; peers too) [default: 1000]
  --latency-messages <n>    messages of the latency scenario [default: 20000]
  --consumer lite|push|raw  consumer of consume and e2e: LitePullConsumer.poll(), PushConsumer, or (consume
                            only) raw PULL_MESSAGE counting records undecoded, the broker's capacity [default: lite]
  --peers                   also run NATS JetStream (file store) and Redis Streams (AOF everysec, always)
  --set <key=value>         extra broker setting for the broker the bench starts; repeatable
  --dir <dir>               where temporary stores go [default: the system temp dir]
  --cpu-prof <dir>          run the broker with --cpu-prof, profiles written to <dir>
  --json                    print only the JSON line on stdout
  -h, --help                show this help`;

/** Options of {@linkcode runBench}. */
export interface RunBenchOptions {
  /** False under `denomq admin bench`: only `--namesrv` targets, no peers. */
  mayStartProcesses: boolean;
  /** Where lines go (stdout). */
  out?: (line: string) => void;
}

/** What a run produced. */
export interface BenchReport {
  rows: BenchRow[];
  ratios: Ratio[];
}

function positiveInt(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`Invalid --${name} "${text}": expected an integer >= ${min}`);
  }
  return n;
}

function scenariosOf(text: string | undefined): Scenario[] {
  if (!text) throw new TypeError("Missing scenario: produce, consume, e2e, latency or all");
  const names = text.split(",").flatMap((s) => s === "all" ? [...BROKER_SCENARIOS] : [s]);
  for (const name of names) {
    if (!(BROKER_SCENARIOS as readonly string[]).includes(name)) {
      throw new TypeError(`Unknown scenario "${name}": expected produce, consume, e2e, latency or all`);
    }
  }
  return BROKER_SCENARIOS.filter((s) => names.includes(s));
}

/** The machine the figures were taken on. */
function machine(): Record<string, unknown> {
  let cpu = "";
  try {
    cpu = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "";
  } catch {
    // not Linux, or no read permission
  }
  let memoryGiB: number | undefined;
  try {
    memoryGiB = Math.round(Deno.systemMemoryInfo().total / 1024 ** 3);
  } catch {
    // no sys permission
  }
  let kernel = "";
  try {
    kernel = Deno.osRelease();
  } catch {
    // no sys permission
  }
  return { cores: navigator.hardwareConcurrency, cpu, memoryGiB, kernel, deno: Deno.version.deno };
}

/**
 * Broker settings the bench applies to a broker it starts: pulls may carry `pullBatch` messages
 * (RocketMQ's default transfer caps of 32 messages / 256 KiB would cut every pull short of what
 * the peers are asked for).
 */
function benchSettings(w: Workload): string[] {
  return [
    `maxTransferCountOnMessageInMemory=${Math.max(32, w.pullBatch)}`,
    `maxTransferBytesOnMessageInMemory=${Math.max(256 * 1024, w.pullBatch * (w.size + 512))}`,
  ];
}

async function runScenario(scenario: Scenario, cluster: BenchCluster, w: Workload): Promise<BenchRow> {
  switch (scenario) {
    case "produce":
      return await benchProduce(cluster, w);
    case "consume":
      return await benchConsume(cluster, w);
    case "e2e":
      return await benchE2e(cluster, w);
    case "latency":
      return await benchLatency(cluster, w);
  }
}

function find(rows: BenchRow[], system: string, scenario: string, mode?: string): BenchRow | undefined {
  return rows.find((r) =>
    r.system === system && r.scenario === scenario && r.msgsPerSec > 0 &&
    (mode === undefined || r.mode.startsWith(mode))
  );
}

/** The ratios of issue 8's targets, from the rows of one run. */
export function targetRatios(rows: BenchRow[]): Ratio[] {
  const ratios: Ratio[] = [];
  const asyncProduce = find(rows, "denomq", "produce", "ASYNC_FLUSH");
  const syncProduce = find(rows, "denomq", "produce", "SYNC_FLUSH");
  const natsProduce = find(rows, "nats", "produce");
  const redisAlways = find(rows, "redis", "produce", "AOF always");
  const redisEverysec = find(rows, "redis", "produce", "AOF everysec");
  if (asyncProduce && natsProduce) {
    ratios.push(
      ratioOf(
        "produce ASYNC_FLUSH / NATS raw publisher",
        asyncProduce.msgsPerSec,
        natsProduce.msgsPerSec,
        "msgs/s",
        1.0,
      ),
    );
  }
  if (asyncProduce && redisEverysec) {
    ratios.push(
      ratioOf("produce ASYNC_FLUSH / Redis AOF everysec", asyncProduce.msgsPerSec, redisEverysec.msgsPerSec, "msgs/s"),
    );
  }
  if (syncProduce && redisAlways) {
    ratios.push(
      ratioOf("produce SYNC_FLUSH / Redis AOF always", syncProduce.msgsPerSec, redisAlways.msgsPerSec, "msgs/s", 1.5),
    );
  }
  const natsConsume = find(rows, "nats", "consume");
  const redisConsume = find(rows, "redis", "consume");
  for (const mode of ["ASYNC_FLUSH", "SYNC_FLUSH"]) {
    const consume = find(rows, "denomq", "consume", mode);
    if (consume && natsConsume) {
      ratios.push(
        ratioOf(`consume ${mode} / NATS JetStream consume`, consume.msgsPerSec, natsConsume.msgsPerSec, "msgs/s", 2.0),
      );
    }
    if (consume && redisConsume) {
      ratios.push(ratioOf(`consume ${mode} / Redis XREAD`, consume.msgsPerSec, redisConsume.msgsPerSec, "msgs/s"));
    }
  }
  return ratios;
}

/** Absolute targets (latency, SYNC ack p99) as lines. */
function absoluteTargets(rows: BenchRow[]): string[] {
  const lines: string[] = [];
  const sync = find(rows, "denomq", "produce", "SYNC_FLUSH");
  if (sync?.p99Ms !== undefined) {
    lines.push(
      `  produce SYNC_FLUSH ack p99 ${sync.p99Ms.toFixed(2)} ms (target ≤ 5 ms: ${
        sync.p99Ms <= 5 ? "met" : "NOT met"
      })`,
    );
  }
  for (const mode of ["ASYNC_FLUSH", "SYNC_FLUSH"]) {
    const lat = find(rows, "denomq", "latency", mode);
    if (lat?.p50Ms === undefined || lat.p99Ms === undefined) continue;
    const met = lat.p50Ms <= 0.15 && lat.p99Ms <= 0.5;
    lines.push(
      `  latency ${mode} p50 ${lat.p50Ms.toFixed(3)} ms, p99 ${
        lat.p99Ms.toFixed(3)
      } ms (target p50 ≤ 0.15, p99 ≤ 0.5: ${met ? "met" : "NOT met"})`,
    );
  }
  return lines;
}

/**
 * Runs the bench with command-line `args`.
 *
 * @throws {TypeError | RangeError} for bad arguments.
 */
export async function runBench(args: string[], options: RunBenchOptions): Promise<BenchReport> {
  const out = options.out ?? ((line: string) => console.log(line));
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      flush: { type: "string" },
      namesrv: { type: "string" },
      messages: { type: "string" },
      warmup: { type: "string" },
      size: { type: "string" },
      inflight: { type: "string" },
      producers: { type: "string" },
      queues: { type: "string" },
      "pull-batch": { type: "string" },
      "latency-messages": { type: "string" },
      consumer: { type: "string" },
      peers: { type: "boolean" },
      set: { type: "string", multiple: true },
      dir: { type: "string" },
      "cpu-prof": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    out(BENCH_USAGE);
    return { rows: [], ratios: [] };
  }
  const scenarios = scenariosOf(positionals.join(","));
  const w: Workload = {
    messages: positiveInt("messages", values.messages, 500_000),
    warmup: positiveInt("warmup", values.warmup, 100_000, 0),
    size: positiveInt("size", values.size, 1024),
    inflight: positiveInt("inflight", values.inflight, 256),
    producers: positiveInt("producers", values.producers, 1),
    queues: positiveInt("queues", values.queues, 8),
    pullBatch: positiveInt("pull-batch", values["pull-batch"], 1000),
    latencyMessages: positiveInt("latency-messages", values["latency-messages"], 20_000),
    consumer: values.consumer === undefined
      ? "lite"
      : values.consumer === "lite" || values.consumer === "push" || values.consumer === "raw"
      ? values.consumer
      : (() => {
        throw new TypeError(`Invalid --consumer "${values.consumer}": expected lite, push or raw`);
      })(),
  };
  if (w.pullBatch > 1024) throw new RangeError(`Invalid --pull-batch ${w.pullBatch}: the client pulls at most 1024`);
  const flushModes: FlushDiskType[] = values.flush === "sync"
    ? ["SYNC_FLUSH"]
    : values.flush === "async"
    ? ["ASYNC_FLUSH"]
    : values.flush === undefined || values.flush === "both"
    ? ["ASYNC_FLUSH", "SYNC_FLUSH"]
    : (() => {
      throw new TypeError(`Invalid --flush "${values.flush}": expected sync, async or both`);
    })();
  if (!options.mayStartProcesses && !values.namesrv) {
    throw new TypeError("denomq admin bench drives a running cluster: give -n/--namesrv (or use deno task bench)");
  }
  if (!options.mayStartProcesses && values.peers) {
    throw new TypeError("--peers starts NATS and Redis: run it with deno task bench");
  }
  const settings = [...benchSettings(w), ...(values.set ?? [])];
  const rows: BenchRow[] = [];

  if (values.namesrv) {
    const cluster = runningCluster(values.namesrv);
    for (const scenario of scenarios) rows.push(await runScenario(scenario, cluster, w));
  } else {
    for (const flushDiskType of flushModes) {
      for (const scenario of scenarios) {
        // A fresh broker and store per scenario: a backlog or a segment roll of one run must not
        // weigh on the next.
        const cluster = await startCluster({
          flushDiskType,
          dir: values.dir,
          settings,
          denoFlags: values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : [],
        });
        try {
          rows.push(await runScenario(scenario, cluster, w));
        } finally {
          await cluster.close();
        }
      }
    }
  }
  if (values.peers) {
    const { benchNats } = await import("./peers/nats.ts");
    const { benchRedis } = await import("./peers/redis.ts");
    rows.push(...await benchNats(scenarios, w, values.dir));
    rows.push(...await benchRedis(scenarios, w, values.dir));
  }

  const ratios = targetRatios(rows);
  const report = {
    bench: "denomq",
    scenarios,
    workload: w,
    brokerSettings: values.namesrv ? undefined : settings,
    machine: machine(),
    rows: rows.map(jsonRow),
    ratios,
  };
  if (!values.json) {
    out("");
    out(summaryTable(rows));
    for (const r of rows) if (r.note) out(`  note: ${r.system} ${r.mode} ${r.scenario}: ${r.note}`);
    if (!values.namesrv) out(`  broker settings: ${settings.join(" ")}`);
    const targets = [...ratios.map(ratioLine), ...absoluteTargets(rows)];
    if (targets.length > 0) {
      out("");
      out("Ratios and targets (issue 8):");
      for (const line of targets) out(line);
    }
    out("");
  }
  out(JSON.stringify(report));
  status("");
  return { rows, ratios };
}
