/**
 * `deno task bench backlog` and `deno task bench restart`: the broker's memory and restart time
 * with a large store (issue 8: RSS ≤ 300 MiB and flat with a 10M-message backlog over 1,000
 * topics; ready ≤ 5 s after a clean shutdown with 10 GiB of commit log).
 *
 * - backlog: a fresh broker (ASYNC_FLUSH), `--topics` topics of `--queues` queues, then
 *   `--messages` messages of `--size` bytes sent round-robin over the topics with nobody consuming.
 *   The broker's RSS is sampled every second and reported at each tenth of the backlog; then the
 *   broker is stopped cleanly and restarted on the same store, and the time to its ready line is
 *   measured (with the RSS after the restart).
 * - restart: the same, sized by commit-log bytes (`--gib`, default 10) into one topic, reporting
 *   only the restart.
 *
 * These write gigabytes: the store goes to `--dir` (default the system temp dir) and is deleted at
 * the end. Not part of `deno task test` (the smoke test runs them with a few thousand messages).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { silentLogger } from "../client/_log.ts";
import { Producer } from "../client/producer.ts";
import { RemotingClient } from "../client/remoting_client.ts";
import { AdminOps, nameServerSource } from "../ops/admin_ops.ts";
import { remoteInvoker } from "../ops/invoker.ts";
import { type BenchCluster, startCluster } from "./_cluster.ts";
import { fmt, Progress, status, table } from "./_report.ts";
import { round } from "./_stats.ts";

const ADMIN_TIMEOUT_MS = 30_000;
/** Topics created at once (each is a broker call and a NameServer re-registration). */
const CREATE_CONCURRENCY = 16;
const RSS_TARGET_MIB = 300;
const RESTART_TARGET_MS = 5000;

interface BacklogOptions {
  messages: number;
  topics: number;
  queues: number;
  size: number;
  inflight: number;
  segmentBytes?: number;
  dir?: string;
  json: boolean;
  restartOnly: boolean;
}

function options(args: string[], restartOnly: boolean): BacklogOptions {
  const { values } = parseArgs({
    args,
    options: {
      messages: { type: "string" },
      gib: { type: "string" },
      topics: { type: "string" },
      queues: { type: "string" },
      size: { type: "string" },
      inflight: { type: "string" },
      "segment-bytes": { type: "string" },
      dir: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      restartOnly
        ? "Usage: deno task bench restart [--gib 10] [--size 1024] [--inflight 256] [--segment-bytes N] [--dir DIR] [--json]"
        : "Usage: deno task bench backlog [--messages 10000000] [--topics 1000] [--queues 4] [--size 1024]\n" +
          "  [--inflight 256] [--segment-bytes N] [--dir DIR] [--json]",
    );
    Deno.exit(0);
  }
  const int = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new RangeError(`Invalid --${name} "${text}": expected a positive number`);
    return n;
  };
  const size = Math.floor(int("size", values.size, 1024));
  // A record is the body plus about 180 bytes of header, topic and properties: 160 makes sure of the GiB.
  const messages = restartOnly
    ? Math.ceil((int("gib", values.gib, 10) * 1024 ** 3) / (size + 160))
    : Math.floor(int("messages", values.messages, 10_000_000));
  return {
    messages,
    topics: restartOnly ? 1 : Math.floor(int("topics", values.topics, 1000)),
    queues: Math.floor(int("queues", values.queues, restartOnly ? 8 : 4)),
    size,
    inflight: Math.floor(int("inflight", values.inflight, 256)),
    segmentBytes: values["segment-bytes"] ? Math.floor(int("segment-bytes", values["segment-bytes"], 0)) : undefined,
    dir: values.dir,
    json: values.json ?? false,
    restartOnly,
  };
}

async function createTopics(namesrvAddr: string, names: string[], queues: number): Promise<void> {
  const client = new RemotingClient({ timeoutMs: ADMIN_TIMEOUT_MS });
  try {
    const invoker = remoteInvoker(client);
    const ops = new AdminOps({
      invoker,
      source: nameServerSource(invoker, [namesrvAddr], ADMIN_TIMEOUT_MS),
      timeoutMs: ADMIN_TIMEOUT_MS,
    });
    const [master] = await ops.masters();
    let next = 0;
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < names.length) {
        const topic = names[next++];
        await ops.createTopic({ topic, brokerAddr: master.addr, readQueueNums: queues, writeQueueNums: queues });
      }
    }));
  } finally {
    await client.close();
  }
}

/** RSS at each tenth of the backlog. */
interface RssPoint {
  messages: number;
  rssMiB: number;
}

async function fill(cluster: BenchCluster, o: BacklogOptions, topics: string[]): Promise<RssPoint[]> {
  const producer = new Producer({
    nameServer: cluster.namesrvAddr,
    group: "BenchBacklogProducer",
    producerInflightMax: o.inflight,
    logger: silentLogger,
    compressBodyOverBytes: 64 * 1024 * 1024,
  });
  const body = new Uint8Array(o.size).fill(0x62);
  const points: RssPoint[] = [];
  let acked = 0;
  let errors = 0;
  let lastError = "";
  let rssMaxMiB = 0;
  const sampler = setInterval(() => {
    rssMaxMiB = Math.max(rssMaxMiB, cluster.sample()?.rssMiB ?? 0);
  }, 1000);
  const progress = new Progress("backlog fill", () => ({
    count: acked,
    bytes: acked * o.size,
    extra: `broker RSS ${Math.round(cluster.sample()?.rssMiB ?? 0)} MiB${errors ? `, errors ${errors}` : ""}`,
  }));
  try {
    // Routes of every topic first (1,000 lookups), so the fill measures appends.
    for (const topic of topics) await producer.send({ topic, body, tags: "backlog" });
    acked = topics.length;
    let nextPoint = Math.ceil(o.messages / 10);
    for (let i = topics.length; i < o.messages; i++) {
      await producer.sendAsync({ topic: topics[i % topics.length], body, tags: "backlog" }, (error) => {
        if (error) {
          errors++;
          lastError = error.message;
        } else acked++;
      });
      if (i + 1 >= nextPoint) {
        points.push({ messages: i + 1, rssMiB: cluster.sample()?.rssMiB ?? 0 });
        nextPoint += Math.ceil(o.messages / 10);
      }
    }
    while (producer.inflight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    if (errors > 0) throw new Error(`${errors} sends failed while filling the backlog, last: ${lastError}`);
    points.push({ messages: acked, rssMiB: cluster.sample()?.rssMiB ?? 0 });
  } finally {
    clearInterval(sampler);
    progress.stop();
    await producer.shutdown();
  }
  rssMaxMiB = Math.max(rssMaxMiB, ...points.map((p) => p.rssMiB));
  status(`backlog: ${fmt(acked)} messages stored; broker RSS max ${Math.round(rssMaxMiB)} MiB while filling`);
  return points;
}

async function storeBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(`${dir}/commitlog`)) {
    if (entry.isFile) total += (await Deno.stat(`${dir}/commitlog/${entry.name}`)).size;
  }
  return total;
}

/** Runs `deno task bench backlog|restart` with `args`. */
export async function runBacklogBench(args: string[], restartOnly = false): Promise<void> {
  const o = options(args, restartOnly);
  // The backlog must stay whole: RocketMQ's default deletes the oldest segments early above 75 %
  // disk use (free space counted as the unprivileged user sees it), which a shared disk can reach.
  const settings = [
    "diskMaxUsedSpaceRatio=89",
    ...(o.segmentBytes ? [`mappedFileSizeCommitLog=${o.segmentBytes}`] : []),
  ];
  const cluster = await startCluster({ flushDiskType: "ASYNC_FLUSH", dir: o.dir, settings, keepStore: true });
  const storeDir = cluster.storeDir!;
  try {
    const topics = Array.from({ length: o.topics }, (_, i) => `Backlog_${String(i).padStart(4, "0")}`);
    status(`backlog: creating ${fmt(o.topics)} topics of ${o.queues} queues`);
    await createTopics(cluster.namesrvAddr, topics, o.queues);
    const rssIdle = cluster.sample()?.rssMiB ?? 0;
    status(
      `backlog: ${fmt(o.messages)} messages of ${o.size} B over ${fmt(o.topics)} topics (broker RSS ${
        Math.round(rssIdle)
      } MiB)`,
    );
    const started = performance.now();
    const points = await fill(cluster, o, topics);
    const fillSeconds = (performance.now() - started) / 1000;
    const rssBeforeStop = cluster.sample()?.rssMiB ?? 0;
    const stopStarted = performance.now();
    await cluster.close();
    const stopMs = performance.now() - stopStarted;
    const commitLogBytes = await storeBytes(storeDir);
    status(
      `backlog: broker stopped cleanly in ${Math.round(stopMs)} ms; restarting on ${
        (commitLogBytes / 1024 ** 3).toFixed(2)
      } GiB of commit log`,
    );
    const restartStarted = performance.now();
    const again = await startCluster({ flushDiskType: "ASYNC_FLUSH", storeDir, settings, keepStore: true });
    const readyMs = performance.now() - restartStarted;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rssAfterRestart = again.sample()?.rssMiB ?? 0;
    await again.close();
    const rssMax = Math.max(...points.map((p) => p.rssMiB));
    const summary = {
      bench: restartOnly ? "restart" : "backlog",
      messages: points.at(-1)?.messages ?? 0,
      topics: o.topics,
      queuesPerTopic: o.queues,
      bodyBytes: o.size,
      commitLogGiB: round(commitLogBytes / 1024 ** 3, 2),
      brokerSettings: settings,
      fillSeconds: round(fillSeconds, 1),
      fillMsgsPerSec: Math.round((points.at(-1)?.messages ?? 0) / fillSeconds),
      rssIdleMiB: Math.round(rssIdle),
      rssByBacklog: points.map((p) => ({ messages: p.messages, rssMiB: Math.round(p.rssMiB) })),
      rssMaxMiB: Math.round(rssMax),
      rssBeforeStopMiB: Math.round(rssBeforeStop),
      cleanStopMs: Math.round(stopMs),
      restartReadyMs: Math.round(readyMs),
      rssAfterRestartMiB: Math.round(rssAfterRestart),
      rssTargetMet: rssMax <= RSS_TARGET_MIB,
      restartTargetMet: readyMs <= RESTART_TARGET_MS,
    };
    if (!o.json) {
      if (!restartOnly) {
        console.log(table(
          ["backlog (messages)", "broker RSS MiB"],
          summary.rssByBacklog.map((p) => [fmt(p.messages), String(p.rssMiB)]),
        ));
        console.log(
          `  RSS max ${summary.rssMaxMiB} MiB over ${fmt(summary.messages)} messages in ${o.topics} topics ` +
            `(target ≤ ${RSS_TARGET_MIB} MiB: ${summary.rssTargetMet ? "met" : "NOT met"})`,
        );
      }
      console.log(
        `  restart with ${summary.commitLogGiB} GiB of commit log after a clean stop: ready in ${summary.restartReadyMs} ms ` +
          `(target ≤ ${RESTART_TARGET_MS} ms: ${
            summary.restartTargetMet ? "met" : "NOT met"
          }), RSS ${summary.rssAfterRestartMiB} MiB`,
      );
    }
    console.log(JSON.stringify(summary));
  } finally {
    await cluster.close();
    await Deno.remove(storeDir, { recursive: true }).catch(() => {});
  }
}

/** Runs `deno task bench restart` with `args`. */
export function runRestartBench(args: string[]): Promise<void> {
  return runBacklogBench(args, true);
}
