/**
 * Output of the benchmarks: a live progress line on stderr (rewritten in place on a terminal,
 * one line per second otherwise), the summary table, the ratio lines and the one JSON line on
 * stdout.
 *
 * @module
 */

import { round } from "./_stats.ts";

/** One measured run: a system, a scenario, a mode. */
export interface BenchRow {
  /** `denomq`, `nats`, `redis`. */
  system: string;
  /** `produce`, `consume`, `e2e`, `latency`. */
  scenario: string;
  /** Durability mode: `ASYNC_FLUSH`, `SYNC_FLUSH`, `file store`, `AOF everysec`, `AOF always`. */
  mode: string;
  /** What drove it, e.g. `denomq client, 256 in flight`. */
  client: string;
  messages: number;
  seconds: number;
  msgsPerSec: number;
  /** Body megabytes (10^6 bytes) per second. */
  mbPerSec: number;
  /** Ack latency (produce, latency), end-to-end latency (e2e); absent for consume. */
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** Server process CPU per message, µs (all its threads), when the server is ours to watch. */
  serverCpuUsPerMsg?: number;
  /** Server process CPU, percent of one core. */
  serverCpuPercent?: number;
  /** Server process RSS at the end, MiB. */
  serverRssMiB?: number;
  /** The bench (client) process's CPU per message, µs. */
  clientCpuUsPerMsg?: number;
  errors: number;
  /** Free-form remark (a skipped peer, a tuned setting). */
  note?: string;
}

/** The state a progress line shows. */
export interface ProgressState {
  count: number;
  bytes: number;
  /** p99 so far in ms, when latencies are measured. */
  p99Ms?: number;
  /** Extra text, e.g. `errors 2`. */
  extra?: string;
}

const encoder = new TextEncoder();
const isTerminal = (() => {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
})();

/** Writes progress to stderr; ignores a closed stderr (progress is optional). */
function writeStderr(text: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(text));
  } catch {
    // stderr closed
  }
}

/** A live progress line: messages so far, msgs/s and MB/s over the last tick, p99 so far. */
export class Progress {
  readonly #label: string;
  readonly #state: () => ProgressState;
  readonly #timer: ReturnType<typeof setInterval>;
  #lastMs = performance.now();
  #lastCount = 0;
  #lastBytes = 0;
  #ticks = 0;

  constructor(label: string, state: () => ProgressState, intervalMs = isTerminal ? 500 : 1000) {
    this.#label = label;
    this.#state = state;
    this.#timer = setInterval(() => this.#tick(), intervalMs);
  }

  #tick(): void {
    const now = performance.now();
    const s = this.#state();
    const seconds = (now - this.#lastMs) / 1000;
    const rate = (s.count - this.#lastCount) / seconds;
    const mb = (s.bytes - this.#lastBytes) / seconds / 1e6;
    this.#lastMs = now;
    this.#lastCount = s.count;
    this.#lastBytes = s.bytes;
    this.#ticks++;
    const p99 = s.p99Ms === undefined ? "" : `  p99 ${s.p99Ms.toFixed(2)} ms`;
    const line = `  ${this.#label}  ${fmt(s.count)} msgs  ${fmt(rate)} msgs/s  ${mb.toFixed(1)} MB/s${p99}${
      s.extra ? `  ${s.extra}` : ""
    }`;
    writeStderr(isTerminal ? `\r${line.padEnd(110)}` : `${line}\n`);
  }

  /** Stops the line (and clears it on a terminal). */
  stop(): void {
    clearInterval(this.#timer);
    if (isTerminal && this.#ticks > 0) writeStderr(`\r${"".padEnd(110)}\r`);
  }
}

/** A one-off status line on stderr (what the bench is doing now). */
export function status(text: string): void {
  writeStderr(`${text}\n`);
}

/** `1234567` → `1,234,567`. */
export function fmt(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Formats rows as an aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function ms(value: number | undefined): string {
  return value === undefined ? "-" : value < 1 ? value.toFixed(3) : value.toFixed(2);
}

/** The summary table of rows. */
export function summaryTable(rows: readonly BenchRow[]): string {
  return table(
    ["system / mode", "scenario (client)", "msgs/s", "MB/s", "p50 ms", "p99 ms", "srv µs/msg", "srv RSS MiB", "errors"],
    rows.map((r) => [
      `${r.system} ${r.mode}`,
      `${r.scenario} (${r.client})`,
      fmt(r.msgsPerSec),
      r.mbPerSec.toFixed(1),
      ms(r.p50Ms),
      ms(r.p99Ms),
      r.serverCpuUsPerMsg === undefined ? "-" : r.serverCpuUsPerMsg.toFixed(1),
      r.serverRssMiB === undefined ? "-" : String(Math.round(r.serverRssMiB)),
      String(r.errors),
    ]),
  );
}

/** A ratio of two measured rows, against a target. */
export interface Ratio {
  name: string;
  ours: number;
  theirs: number;
  ratio: number;
  target?: number;
  met?: boolean;
  unit: string;
}

/** `ours / theirs`, with the target it is held to. */
export function ratioOf(name: string, ours: number, theirs: number, unit: string, target?: number): Ratio {
  const ratio = theirs > 0 ? round(ours / theirs, 2) : 0;
  return { name, ours, theirs, ratio, target, met: target === undefined ? undefined : ratio >= target, unit };
}

/** A ratio as one line. */
export function ratioLine(r: Ratio): string {
  const target = r.target === undefined ? "" : `  (target ≥ ${r.target}×: ${r.met ? "met" : "NOT met"})`;
  return `  ${r.name}: ${fmt(r.ours)} / ${fmt(r.theirs)} ${r.unit} = ${r.ratio}×${target}`;
}

/** A row's figures rounded for the JSON line. */
export function jsonRow(r: BenchRow): BenchRow {
  return {
    ...r,
    seconds: round(r.seconds, 2),
    msgsPerSec: Math.round(r.msgsPerSec),
    mbPerSec: round(r.mbPerSec, 1),
    p50Ms: r.p50Ms === undefined ? undefined : round(r.p50Ms, 3),
    p99Ms: r.p99Ms === undefined ? undefined : round(r.p99Ms, 3),
    maxMs: r.maxMs === undefined ? undefined : round(r.maxMs, 3),
    serverRssMiB: r.serverRssMiB === undefined ? undefined : Math.round(r.serverRssMiB),
  };
}
