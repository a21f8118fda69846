/**
 * The audit log of operator actions that change data (DLQ resends and redrives, offset resets,
 * topic and group changes made through the HTTP admin): one JSON object per action, kept in a
 * bounded in-memory ring for the dashboard and handed to a sink (a file under the broker's store
 * root, the log, or the CLI's stderr).
 *
 * @module
 */

/** One audited action. */
export interface AuditEntry {
  /** ISO 8601 time. */
  at: string;
  /** Who: "cli", "http:<session or token id>", "http:loopback". */
  actor: string;
  /** e.g. "dlq.resend", "dlq.redrive", "topic.create", "offset.reset". */
  action: string;
  /** What it acted on: a group, topic or message id. */
  target: string;
  /** "ok", "failed", "started", "finished", "stopped". */
  outcome: string;
  detail?: Record<string, unknown>;
}

/** Entries kept in memory: enough for the dashboard's audit page, bounded whatever the traffic. */
export const AUDIT_ENTRIES_MAX = 1000;

/** Where entries go besides memory. */
export type AuditSink = (entry: AuditEntry) => void;

/** The audit log. */
export class AuditLog {
  readonly #entries: AuditEntry[] = [];
  readonly #sink?: AuditSink;
  readonly #now: () => number;

  constructor(options: { sink?: AuditSink; now?: () => number } = {}) {
    this.#sink = options.sink;
    this.#now = options.now ?? Date.now;
  }

  /** Records an entry (timestamped now) and passes it to the sink. */
  record(entry: Omit<AuditEntry, "at">): AuditEntry {
    const full: AuditEntry = { at: new Date(this.#now()).toISOString(), ...entry };
    this.#entries.push(full);
    if (this.#entries.length > AUDIT_ENTRIES_MAX) this.#entries.splice(0, this.#entries.length - AUDIT_ENTRIES_MAX);
    this.#sink?.(full);
    return full;
  }

  /** The newest entries first, at most `limit`. */
  recent(limit = 100): AuditEntry[] {
    return this.#entries.slice(-Math.max(0, limit)).reverse();
  }
}

/**
 * A sink appending JSON lines to `path` (created if missing). Writes are synchronous and small:
 * an audit line must not be lost to a crash right after the action it records.
 */
export function fileAuditSink(path: string): AuditSink {
  const encoder = new TextEncoder();
  return (entry) => {
    Deno.writeFileSync(path, encoder.encode(JSON.stringify(entry) + "\n"), { append: true, create: true });
  };
}
