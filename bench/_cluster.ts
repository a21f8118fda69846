/**
 * The denomq under test: either a fresh `main.ts dev` process (NameServer + broker in one
 * process, its own temporary store, the chosen flush mode, run with the `dev` permission set
 * plus the temporary directory) or a running cluster named by `--namesrv`.
 *
 * The broker runs in its own process, as the peers do, so the bench client and the broker each
 * have their own isolate and their CPU can be read separately from `/proc`.
 *
 * @module
 */

import { type ProcessSample, sampleProcess } from "./_stats.ts";

const ROOT = new URL("../", import.meta.url);
const READY_TIMEOUT_MS = 60_000;

/** A NameServer address to drive, and (when we started it) the broker process to watch. */
export interface BenchCluster {
  namesrvAddr: string;
  /** The broker's pid when this bench started it. */
  pid?: number;
  /** The store directory when this bench started it. */
  storeDir?: string;
  /** Flush mode when this bench started the broker; undefined for a running cluster. */
  flushDiskType?: FlushDiskType;
  sample(): ProcessSample | undefined;
  /** Stops the process (SIGTERM, clean shutdown) and deletes its store; no-op for a running cluster. */
  close(): Promise<void>;
}

/** The broker's flush mode. */
export type FlushDiskType = "SYNC_FLUSH" | "ASYNC_FLUSH";

/** Options for {@linkcode startCluster}. */
export interface StartClusterOptions {
  flushDiskType: FlushDiskType;
  /** Parent of the temporary store directory (default: the system's temp dir). */
  dir?: string;
  /** Extra broker settings (`key=value`). */
  settings?: string[];
  /** Keep the store after close (the restart scenario reopens it). */
  keepStore?: boolean;
  /** Use this store directory instead of a fresh temporary one. */
  storeDir?: string;
  /** Extra `deno run` flags, e.g. `--cpu-prof`. */
  denoFlags?: string[];
}

/** Uses a running cluster. */
export function runningCluster(namesrvAddr: string): BenchCluster {
  return { namesrvAddr, sample: () => undefined, close: () => Promise.resolve() };
}

/** Grants of the `dev` permission set plus `dir`: the set's paths are repeated, as flags replace them. */
function permissionFlags(dir: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))) as {
    permissions?: Record<string, { read?: string[]; write?: string[] }>;
  };
  const dev = config.permissions?.dev ?? {};
  return [
    "-P=dev",
    `--allow-read=${[...(dev.read ?? []), dir].join(",")}`,
    `--allow-write=${[...(dev.write ?? []), dir].join(",")}`,
  ];
}

/** Reads stdout until the first line, the ready line. */
async function readyLine(child: Deno.ChildProcess): Promise<Record<string, unknown>> {
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`The broker was not ready within ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
  });
  try {
    while (!text.includes("\n")) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`The broker exited before it was ready`);
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  void child.stdout.pipeTo(new WritableStream()).catch(() => {});
  return JSON.parse(text.slice(0, text.indexOf("\n")));
}

/**
 * Starts `main.ts dev` on free ports with a temporary store and the given flush mode; resolves
 * once it printed its ready line. stderr (JSON logs at warning level) is passed through.
 */
export async function startCluster(options: StartClusterOptions): Promise<BenchCluster> {
  const storeDir = options.storeDir ??
    await Deno.makeTempDir({ dir: options.dir, prefix: `denomq-bench-${options.flushDiskType.toLowerCase()}-` });
  const settings = [`flushDiskType=${options.flushDiskType}`, ...(options.settings ?? [])];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...permissionFlags(storeDir),
      ...(options.denoFlags ?? []),
      "main.ts",
      "dev",
      "--data",
      storeDir,
      "--namesrv-port",
      "0",
      "--broker-port",
      "0",
      "--log-level",
      "warning",
      ...settings.flatMap((s) => ["--set", s]),
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let ready: Record<string, unknown>;
  try {
    ready = await readyLine(child);
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    if (!options.keepStore && !options.storeDir) await Deno.remove(storeDir, { recursive: true }).catch(() => {});
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    namesrvAddr: String(ready.namesrvAddr),
    pid: child.pid,
    storeDir,
    flushDiskType: options.flushDiskType,
    sample: () => sampleProcess(child.pid),
    close() {
      closed ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
        await child.status;
        if (!options.keepStore) await Deno.remove(storeDir, { recursive: true }).catch(() => {});
      })();
      return closed;
    },
  };
}
