/**
 * `deno task bench store`: the message store against a raw `Deno.FsFile` baseline, in one run.
 *
 * Workload (issue 4): 1 KiB bodies (records of about 1.1 KiB with a UNIQ_KEY, TAGS and WAIT),
 * appended by `--concurrency` (256) concurrent puts over 8 queues of one topic, first with
 * SYNC_FLUSH (every put waits for the fdatasync that covers it; group commit), then with
 * ASYNC_FLUSH; then every queue is read back sequentially with 32-message pulls. Each store phase
 * is paired with a baseline doing the same bytes through `Deno.FsFile` directly: one write + one
 * fdatasync per group of `concurrency` records (the best a group commit of that size can do),
 * plain 1 MiB writes, and 32-record positional reads.
 *
 * Options: `--records N` (default 1000000), `--concurrency N` (256), `--body BYTES` (1024),
 * `--segment-bytes N` (1 GiB), `--dir DIR` (`$BENCH_DIR` or `./.bench-data`), `--phases
 * sync,async,read`, `--no-worker` (flush on the isolate), `--json` (print the summary as JSON).
 *
 * @module
 */

import { FileMessageStore } from "../broker/store/file_store.ts";
import { GetMessageStatus, PutMessageStatus, type StoreMessage } from "../broker/store/store.ts";

interface BenchOptions {
  records: number;
  concurrency: number;
  bodyBytes: number;
  segmentBytes: number;
  dir: string;
  phases: string[];
  worker: boolean;
  json: boolean;
}

function parseArgs(args: string[]): BenchOptions {
  const value = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
  };
  return {
    records: Number(value("--records", "1000000")),
    concurrency: Number(value("--concurrency", "256")),
    bodyBytes: Number(value("--body", "1024")),
    segmentBytes: Number(value("--segment-bytes", String(1024 ** 3))),
    dir: value("--dir", Deno.env.get("BENCH_DIR") ?? "./.bench-data"),
    phases: value("--phases", "sync,async,read").split(","),
    worker: !args.includes("--no-worker"),
    json: args.includes("--json"),
  };
}

const encoder = new TextEncoder();

function rssMiB(): number {
  return Deno.memoryUsage().rss / 1024 / 1024;
}

/** A live progress line on stderr, rewritten in place. */
class Progress {
  #label: string;
  #total: number;
  #start = performance.now();
  #last = performance.now();
  #lastDone = 0;
  #timer: ReturnType<typeof setInterval>;
  done = 0;
  rssMax = 0;
  rssSamples: number[] = [];

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
    this.#timer = setInterval(() => this.#tick(), 500);
  }

  #tick(): void {
    const now = performance.now();
    const rate = (this.done - this.#lastDone) / ((now - this.#last) / 1000);
    this.#last = now;
    this.#lastDone = this.done;
    const rss = rssMiB();
    this.rssMax = Math.max(this.rssMax, rss);
    this.rssSamples.push(rss);
    const heap = Deno.memoryUsage().heapUsed / 1024 / 1024;
    const line = `[${this.#label}] ${this.done}/${this.#total} ${Math.round(rate)} rec/s, ` +
      `${((now - this.#start) / 1000).toFixed(1)} s, RSS ${rss.toFixed(0)} MiB (JS heap ${heap.toFixed(0)} MiB)`;
    Deno.stderr.writeSync(encoder.encode(`\r${line.padEnd(90)}`));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#tick();
    Deno.stderr.writeSync(encoder.encode("\n"));
  }
}

/**
 * A uniform sample of put latencies (reservoir sampling), so the bench's own memory stays flat
 * however many records it writes and RSS reflects the store.
 */
class LatencySample {
  static readonly max = 200_000;
  #values = new Float64Array(LatencySample.max);
  #seen = 0;

  add(ms: number): void {
    if (this.#seen < LatencySample.max) this.#values[this.#seen] = ms;
    else {
      const j = Math.floor(Math.random() * (this.#seen + 1));
      if (j < LatencySample.max) this.#values[j] = ms;
    }
    this.#seen++;
  }

  sorted(): Float64Array {
    return this.#values.slice(0, Math.min(this.#seen, LatencySample.max)).sort();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

interface PutPhase {
  mode: string;
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  p50ms: number;
  p99ms: number;
  syncs: number;
  failures: number;
  /** RSS after the first half-second, at the end of the phase, and the peak in between. */
  rssStartMiB: number;
  rssMaxMiB: number;
  rssEndMiB: number;
}

function benchMessage(i: number, body: Uint8Array): StoreMessage {
  const uniq = `7F000001${(i >>> 0).toString(16).toUpperCase().padStart(24, "0")}`;
  return {
    topic: "BenchTopic",
    queueId: i & 7,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: BORN_HOST,
    storeHost: STORE_HOST,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body,
    properties: `UNIQ_KEY\u0001${uniq}\u0002WAIT\u0001true\u0002TAGS\u0001TagA`,
    tagsCode: 2598919,
    keys: [uniq],
  };
}

const BORN_HOST = { ip: new Uint8Array([127, 0, 0, 1]), port: 50000 };
const STORE_HOST = { ip: new Uint8Array([127, 0, 0, 1]), port: 10911 };

async function putPhase(options: BenchOptions, mode: "SYNC_FLUSH" | "ASYNC_FLUSH", dir: string): Promise<PutPhase> {
  const store = await FileMessageStore.open({
    storePathRootDir: dir,
    flushDiskType: mode,
    mappedFileSizeCommitLog: options.segmentBytes,
    flushInWorker: options.worker,
  });
  const body = new Uint8Array(options.bodyBytes).fill(0x61);
  const latencies = new LatencySample();
  const progress = new Progress(mode, options.records);
  let next = 0;
  let failures = 0;
  const started = performance.now();
  async function producer(): Promise<void> {
    while (next < options.records) {
      const i = next++;
      const t0 = performance.now();
      const result = await store.putMessage(benchMessage(i, body));
      latencies.add(performance.now() - t0);
      if (result.status !== PutMessageStatus.PUT_OK) failures++;
      progress.done++;
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, producer));
  const seconds = (performance.now() - started) / 1000;
  progress.stop();
  const rssEnd = rssMiB();
  const info = store.runtimeInfo();
  await store.close();
  const sorted = latencies.sorted();
  return {
    mode,
    records: options.records,
    seconds,
    recordsPerSec: options.records / seconds,
    mbPerSec: info.putMessageBytes / seconds / 1e6,
    p50ms: percentile(sorted, 0.5),
    p99ms: percentile(sorted, 0.99),
    syncs: info.commitLogSyncCount,
    failures,
    rssStartMiB: progress.rssSamples[0] ?? rssEnd,
    rssMaxMiB: progress.rssMax,
    rssEndMiB: rssEnd,
  };
}

interface ReadPhase {
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
}

async function readPhase(options: BenchOptions, dir: string): Promise<ReadPhase> {
  const store = await FileMessageStore.open({
    storePathRootDir: dir,
    mappedFileSizeCommitLog: options.segmentBytes,
    flushInWorker: options.worker,
  });
  let records = 0;
  let bytes = 0;
  const progress = new Progress("read", options.records);
  const started = performance.now();
  for (let queueId = 0; queueId < 8; queueId++) {
    let offset = 0;
    for (;;) {
      const r = await store.getMessages("BenchTopic", queueId, offset, { maxCount: 32, maxBytes: 256 * 1024 });
      if (r.status !== GetMessageStatus.FOUND) break;
      records += r.messageCount;
      bytes += r.records.length;
      progress.done = records;
      offset = r.nextBeginOffset;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  progress.stop();
  await store.close();
  return { records, seconds, recordsPerSec: records / seconds, mbPerSec: bytes / seconds / 1e6 };
}

interface RawResult {
  label: string;
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
}

/** Pre-zeroes a file like a commit-log segment. */
async function prezero(path: string, bytes: number): Promise<Deno.FsFile> {
  const file = await Deno.open(path, { read: true, write: true, create: true, truncate: true });
  const zeros = new Uint8Array(4 * 1024 * 1024);
  for (let n = 0; n < bytes; n += zeros.length) await file.write(zeros.subarray(0, Math.min(zeros.length, bytes - n)));
  await file.sync();
  await file.seek(0, Deno.SeekMode.Start);
  return file;
}

async function rawWrites(
  label: string,
  path: string,
  records: number,
  recordBytes: number,
  groupRecords: number,
  sync: boolean,
): Promise<RawResult> {
  const total = records * recordBytes;
  const file = await prezero(path, total);
  const group = new Uint8Array(groupRecords * recordBytes).fill(0x61);
  const progress = new Progress(label, records);
  const started = performance.now();
  try {
    for (let done = 0; done < records; done += groupRecords) {
      const n = Math.min(groupRecords, records - done) * recordBytes;
      let written = 0;
      while (written < n) written += await file.write(group.subarray(written, n));
      if (sync) await file.syncData();
      progress.done = done + groupRecords;
    }
    if (!sync) await file.syncData();
  } finally {
    progress.stop();
    file.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { label, records, seconds, recordsPerSec: records / seconds, mbPerSec: total / seconds / 1e6 };
}

async function rawReads(path: string, records: number, recordBytes: number): Promise<RawResult> {
  const file = await Deno.open(path, { read: true });
  const batch = new Uint8Array(32 * recordBytes);
  const progress = new Progress("raw read", records);
  const started = performance.now();
  try {
    for (let done = 0; done < records; done += 32) {
      const out = new Uint8Array(batch.length);
      let read = 0;
      while (read < out.length) {
        const n = await file.read(out.subarray(read));
        if (n === null) break;
        read += n;
      }
      progress.done = done + 32;
    }
  } finally {
    progress.stop();
    file.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    label: "raw read",
    records,
    seconds,
    recordsPerSec: records / seconds,
    mbPerSec: records * recordBytes / seconds / 1e6,
  };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * Lets the previous phase's writeback drain (`sync`, then a pause), as bench/README.md advises:
 * otherwise dirty pages and online discard of deleted files leak into the next measurement.
 */
async function settle(): Promise<void> {
  try {
    await new Deno.Command("sync").output();
  } catch {
    // No sync(1): the pause alone still helps.
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
}

/** Entry point for `deno task bench store`. */
export async function runStoreBench(args: string[]): Promise<void> {
  const options = parseArgs(args);
  const base = `${options.dir}/store-bench-${Deno.pid}`;
  await Deno.mkdir(base, { recursive: true });
  const recordBytes = benchRecordBytes(options.bodyBytes);
  const summary: Record<string, unknown> = { options: { ...options, recordBytes } };
  const lines: string[] = [];
  try {
    if (options.phases.includes("sync")) {
      await settle();
      const store = await putPhase(options, "SYNC_FLUSH", `${base}/sync`);
      await Deno.remove(`${base}/sync`, { recursive: true });
      await settle();
      const raw = await rawWrites(
        `raw write+fdatasync per ${options.concurrency} records`,
        `${base}/raw-sync.dat`,
        options.records,
        recordBytes,
        options.concurrency,
        true,
      );
      await Deno.remove(`${base}/raw-sync.dat`);
      await settle();
      // No group commit: what one fdatasync per record allows (a few seconds' worth).
      const perRecord = await rawWrites(
        "raw write+fdatasync per record",
        `${base}/raw-sync1.dat`,
        Math.min(options.records, 20_000),
        recordBytes,
        1,
        true,
      );
      await Deno.remove(`${base}/raw-sync1.dat`);
      summary.sync = { store, raw, perRecord };
      lines.push(putLine(store, raw, perRecord));
    }
    if (options.phases.includes("async") || options.phases.includes("read")) {
      await settle();
      const store = await putPhase(options, "ASYNC_FLUSH", `${base}/async`);
      await settle();
      const raw = await rawWrites("raw write 1MiB", `${base}/raw-async.dat`, options.records, recordBytes, 1024, false);
      summary.async = { store, raw };
      lines.push(putLine(store, raw));
      if (options.phases.includes("read")) {
        await settle();
        const read = await readPhase(options, `${base}/async`);
        const rawRead = await rawReads(`${base}/raw-async.dat`, options.records, recordBytes);
        summary.read = { store: read, raw: rawRead };
        lines.push(
          `read  store ${fmt(read.recordsPerSec)} rec/s ${fmt(read.mbPerSec)} MB/s | ${rawRead.label} ` +
            `${fmt(rawRead.recordsPerSec)} rec/s | ratio ${(read.recordsPerSec / rawRead.recordsPerSec).toFixed(2)}x`,
        );
      }
      await Deno.remove(`${base}/raw-async.dat`);
    }
  } finally {
    await Deno.remove(base, { recursive: true }).catch(() => {});
    // The parent too, if the bench created it and left it empty.
    await Deno.remove(options.dir).catch(() => {});
  }
  if (options.json) console.log(JSON.stringify(summary));
  console.log(
    `SUMMARY store bench: ${options.records} records of ${recordBytes} bytes (body ${options.bodyBytes}), ` +
      `${options.concurrency} concurrent puts, flush ${options.worker ? "worker" : "inline"}`,
  );
  for (const line of lines) console.log(line);
}

function putLine(store: PutPhase, raw: RawResult, perRecord?: RawResult): string {
  let line = `${store.mode.padEnd(11)} store ${fmt(store.recordsPerSec)} rec/s ${fmt(store.mbPerSec)} MB/s ` +
    `p50 ${fmt(store.p50ms, 2)} ms p99 ${fmt(store.p99ms, 2)} ms, ${fmt(store.syncs)} fdatasyncs, ` +
    `${store.failures} failed, RSS ${fmt(store.rssStartMiB)}→${fmt(store.rssEndMiB)} MiB (peak ${
      fmt(store.rssMaxMiB)
    }) | ${raw.label} ${fmt(raw.recordsPerSec)} rec/s ${fmt(raw.mbPerSec)} MB/s: ratio ${
      (store.recordsPerSec / raw.recordsPerSec).toFixed(2)
    }x`;
  if (perRecord) {
    line += ` | ${perRecord.label} ${fmt(perRecord.recordsPerSec)} rec/s: ratio ${
      (store.recordsPerSec / perRecord.recordsPerSec).toFixed(1)
    }x`;
  }
  return line;
}

function benchRecordBytes(bodyBytes: number): number {
  // 91 fixed bytes + body + topic "BenchTopic" + properties (UNIQ_KEY of 32 hex, WAIT, TAGS).
  const properties = `UNIQ_KEY\u0001${"0".repeat(32)}\u0002WAIT\u0001true\u0002TAGS\u0001TagA`;
  return 91 + bodyBytes + "BenchTopic".length + encoder.encode(properties).length;
}

if (import.meta.main) await runStoreBench(Deno.args);
