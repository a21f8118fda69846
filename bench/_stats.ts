/**
 * Measuring helpers of the benchmarks: a fixed-size latency histogram (recording allocates
 * nothing, so the bench's own memory stays flat however long it runs) and CPU/RSS readings of a
 * process from `/proc` (Linux), so a summary says which process was the bottleneck.
 *
 * @module
 */

/** Bucket widths: 1 µs up to 10 ms, 100 µs up to 1 s, 10 ms up to 100 s. */
const FINE_BUCKETS = 10_000;
const MEDIUM_BUCKETS = 9_900;
const COARSE_BUCKETS = 9_900;

/** Latencies in milliseconds, kept as counts per bucket. */
export class LatencyHistogram {
  readonly #counts = new Float64Array(FINE_BUCKETS + MEDIUM_BUCKETS + COARSE_BUCKETS + 1);
  /** Values recorded. */
  count = 0;
  /** Largest value recorded, exact. */
  maxMs = 0;
  #sumMs = 0;

  /** Records one latency. */
  record(ms: number): void {
    const us = ms * 1000;
    let bucket: number;
    if (us < 10_000) bucket = us < 0 ? 0 : Math.floor(us);
    else if (us < 1_000_000) bucket = FINE_BUCKETS + Math.floor((us - 10_000) / 100);
    else {bucket = Math.min(
        FINE_BUCKETS + MEDIUM_BUCKETS + Math.floor((us - 1_000_000) / 10_000),
        this.#counts.length - 1,
      );}
    this.#counts[bucket]++;
    this.count++;
    this.#sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Mean latency, 0 when empty. */
  get meanMs(): number {
    return this.count === 0 ? 0 : this.#sumMs / this.count;
  }

  /** The upper edge of the bucket holding quantile `q` (0..1), in ms; 0 when empty. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const target = Math.max(1, Math.ceil(this.count * q));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i];
      if (seen >= target) return Math.min(upperEdgeMs(i), this.maxMs);
    }
    return this.maxMs;
  }

  /** Forgets everything (end of a warm-up). */
  reset(): void {
    this.#counts.fill(0);
    this.count = 0;
    this.maxMs = 0;
    this.#sumMs = 0;
  }
}

function upperEdgeMs(bucket: number): number {
  if (bucket < FINE_BUCKETS) return (bucket + 1) / 1000;
  if (bucket < FINE_BUCKETS + MEDIUM_BUCKETS) return (10_000 + (bucket - FINE_BUCKETS + 1) * 100) / 1000;
  return (1_000_000 + (bucket - FINE_BUCKETS - MEDIUM_BUCKETS + 1) * 10_000) / 1000;
}

/** CPU time and resident memory of a process at one moment. */
export interface ProcessSample {
  /** User + system CPU seconds since the process started (all threads). */
  cpuSeconds: number;
  /** Resident set size, MiB. */
  rssMiB: number;
  /** When the sample was taken (`performance.now()`). */
  atMs: number;
}

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ: 100 on every Linux we run on). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Reads a process's CPU time and RSS from `/proc`; undefined when it cannot be read (not Linux,
 * process gone).
 */
export function sampleProcess(pid: number | "self"): ProcessSample | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces; fields are counted after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssMiB: rssKiB / 1024, atMs: performance.now() };
  } catch {
    return undefined;
  }
}

/** CPU use between two samples: percent of one core and µs per unit of work. */
export function cpuBetween(
  from: ProcessSample | undefined,
  to: ProcessSample | undefined,
  units: number,
): { cpuPercent: number; cpuUsPerMsg: number } | undefined {
  if (!from || !to || to.atMs <= from.atMs) return undefined;
  const cpu = to.cpuSeconds - from.cpuSeconds;
  return {
    cpuPercent: Math.round((cpu * 1000 * 100) / (to.atMs - from.atMs)),
    cpuUsPerMsg: units > 0 ? round((cpu * 1e6) / units, 2) : 0,
  };
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
