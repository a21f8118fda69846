/**
 * The client's logging seam: a four-method interface callers can point at their own logger.
 * The default writes warnings and errors to `console.error` and drops the rest, so a library
 * never floods its host's output. Private to `client/`; the type is re-exported from `mod.ts`.
 *
 * @module
 */

/** Where the client reports what it did and what went wrong. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function write(level: string, message: string, fields?: Record<string, unknown>): void {
  const extra = fields ? " " + safeJson(fields) : "";
  console.error(`[denomq-client] ${level} ${message}${extra}`);
}

function safeJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_, v) => v instanceof Error ? `${v.name}: ${v.message}` : v);
  } catch {
    return String(fields);
  }
}

/** Warnings and errors on stderr. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => write("WARN", message, fields),
  error: (message, fields) => write("ERROR", message, fields),
};

/** Drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The text of an error for a log line. */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
