/**
 * Shared pieces of the admin subcommands: the command shape, flag parsing and checking, aligned
 * tables and `--json` output, and the one-line failure rule.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import type { RemotingClient } from "../client/remoting_client.ts";
import type { AdminOps } from "../ops/admin_ops.ts";
import type { AuditLog } from "../ops/audit.ts";
import { InvalidArgumentError } from "../ops/errors.ts";

/** An admin subcommand (mqadmin's `SubCommand`). */
export interface AdminCommand {
  name: string;
  description: string;
  /** Flags beyond the common ones (`-n`, `--json`, `-h`). */
  options: ParseArgsConfig["options"];
  /** One line per flag, for `--help`. */
  usage: string;
  run(context: AdminContext): Promise<void>;
}

/** What a subcommand runs with. */
export interface AdminContext {
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  client: RemotingClient;
  /** Cluster operations over the NameServers in {@linkcode nameServers}. */
  ops: AdminOps;
  /** Where DLQ actions are recorded (JSON lines on stderr). */
  audit: AuditLog;
  /** NameServer addresses from `-n` (or `NAMESRV_ADDR`). */
  nameServers: string[];
  out(line: string): void;
}

/** A usage error reported on one line with a non-zero exit. */
export class AdminError extends InvalidArgumentError {}

/** Common flags. */
export const COMMON_OPTIONS = {
  namesrvAddr: { type: "string", short: "n" },
  accessKey: { type: "string" },
  secretKey: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Formats rows as an aligned table with a header. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** Parses flags for one subcommand. */
export function parseFlags(command: AdminCommand, args: string[]) {
  return parseArgs({ args, options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: false, strict: true });
}

/**
 * A required string flag.
 *
 * @throws {AdminError} when it is missing.
 */
export function required(context: AdminContext, name: string, flag: string): string {
  const value = context.values[name];
  if (typeof value !== "string" || value === "") throw new AdminError(`Missing ${flag}`);
  return value;
}

/** An optional string flag. */
export function optional(context: AdminContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * An integer flag within `[min, max]`.
 *
 * @throws {AdminError} when it is not one.
 */
export function intFlag(
  context: AdminContext,
  name: string,
  flag: string,
  options: { fallback?: number; min?: number; max?: number } = {},
): number | undefined {
  const raw = context.values[name];
  if (raw === undefined) return options.fallback;
  const n = Number(raw);
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof raw !== "string" || !/^-?\d+$/.test(raw) || n < min || n > max) {
    throw new AdminError(`Invalid ${flag} "${raw}": expected an integer ${min}-${max}`);
  }
  return n;
}

/** A number flag (rates may be fractional). */
export function numberFlag(context: AdminContext, name: string, flag: string, fallback: number): number {
  const raw = context.values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n)) {
    throw new AdminError(`Invalid ${flag} "${raw}": expected a number`);
  }
  return n;
}

/**
 * A `true|false` flag, as mqadmin takes them.
 *
 * @throws {AdminError} for another value.
 */
export function boolFlag(context: AdminContext, name: string, flag: string, fallback: boolean): boolean {
  const raw = context.values[name];
  if (raw === undefined) return fallback;
  if (raw === true || raw === "true") return true;
  if (raw === "false") return false;
  throw new AdminError(`Invalid ${flag} "${raw}": expected true or false`);
}

/** Local time as mqadmin prints it: `yyyy-MM-dd HH:mm:ss,SSS`; "-" for 0. */
export function formatTime(ms: number): string {
  if (!ms || ms <= 0) return "-";
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${
    p(d.getSeconds())
  },${p(d.getMilliseconds(), 3)}`;
}

/** Writes `value` as one JSON document. */
export function printJson(context: AdminContext, value: unknown): void {
  context.out(JSON.stringify(value));
}
