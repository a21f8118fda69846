/**
 * Logging set-up: one JSON line per event on stderr (stdout carries only the "ready" line that
 * tests and supervisors parse).
 *
 * @module
 */

import { configure, getLogger, jsonLinesFormatter, type LogLevel, type LogRecord, reset } from "@logtape/logtape";

export { getLogger };

const encoder = new TextEncoder();

function stderrSink(record: LogRecord): void {
  try {
    Deno.stderr.writeSync(encoder.encode(jsonLinesFormatter(record)));
  } catch {
    // stderr closed (e.g. the parent went away): logging must never take the server down.
  }
}

/** Configures the `denomq` logger category; safe to call again (it replaces the configuration). */
export async function configureLogging(level: LogLevel = "info"): Promise<void> {
  await reset();
  await configure({
    sinks: { stderr: stderrSink },
    loggers: [
      { category: ["denomq"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}
