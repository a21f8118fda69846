/**
 * Test helper: start a denomq role as a real process (`deno run -P=<role> main.ts …`), wait for
 * its JSON "ready" line, and stop it with a signal.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

/** A running role process. */
export interface RoleProcess {
  /** The parsed ready line. */
  ready: Record<string, unknown>;
  child: Deno.ChildProcess;
  /** stderr so far (JSON log lines). */
  stderr(): string;
  /** SIGTERM and wait; returns the exit code. */
  stop(): Promise<number>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

/** Options for {@linkcode startRole}. */
export interface StartRoleOptions {
  /** Permission set from deno.json (default: the role's own). */
  permissionSet?: string;
  /** How long to wait for the ready line. */
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Flags naming a path the role reads ("r") or reads and writes ("rw"). */
const PATH_FLAGS: Record<string, "r" | "rw"> = {
  "--store": "rw",
  "--data": "rw",
  "-c": "r",
  "--config": "r",
  "--http-token-file": "r",
};
/** `--set key=path` settings naming such a path. */
const PATH_SETTINGS: Record<string, "r" | "rw"> = { storePathRootDir: "rw", aclFile: "r" };

/**
 * The deno.json permission sets grant a role only its default store and config paths
 * (`./store`, `./conf`); like an operator, a test grants the paths it passes on the command line
 * (a temporary store, a config file) on top of the set's own. `--allow-read`/`--allow-write`
 * replace the set's list, so the set's paths are repeated.
 */
export function pathGrants(set: string, args: string[]): string[] {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))) as {
    permissions?: Record<string, { read?: boolean | string[]; write?: boolean | string[] }>;
  };
  const perms = config.permissions?.[set] ?? {};
  const read: string[] = [];
  const write: string[] = [];
  const add = (path: string, mode: "r" | "rw") => {
    read.push(path);
    if (mode === "rw") write.push(path);
  };
  for (let i = 0; i < args.length - 1; i++) {
    const mode = PATH_FLAGS[args[i]];
    if (mode) add(args[i + 1], mode);
    if (args[i] === "--set") {
      const [key, ...value] = args[i + 1].split("=");
      if (PATH_SETTINGS[key]) add(value.join("="), PATH_SETTINGS[key]);
    }
  }
  const flags: string[] = [];
  if (read.length && Array.isArray(perms.read)) flags.push(`--allow-read=${[...perms.read, ...read].join(",")}`);
  if (write.length && Array.isArray(perms.write)) flags.push(`--allow-write=${[...perms.write, ...write].join(",")}`);
  return flags;
}

/** Starts `main.ts <args>` and waits for its ready line. */
export async function startRole(args: string[], options: StartRoleOptions = {}): Promise<RoleProcess> {
  const set = options.permissionSet ?? args[0];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", `-P=${set}`, ...pathGrants(set, args), "main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  let stderrText = "";
  const stderrDone = (async () => {
    for await (const chunk of child.stderr) {
      stderrText += decoder.decode(chunk);
      if (stderrText.length > 1_000_000) stderrText = stderrText.slice(-500_000);
    }
  })();
  const reader = child.stdout.getReader();
  let buffered = "";
  let ready: Record<string, unknown> | undefined;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    while (!ready) {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), Math.max(1, deadline - Date.now()));
      });
      const { value, done } = await Promise.race([reader.read(), timeout]);
      clearTimeout(timer);
      if (done) break;
      buffered += decoder.decode(value);
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const parsed = JSON.parse(line);
          if (parsed.event === "ready") ready = parsed;
        } catch {
          // not a JSON line
        }
      }
    }
  } catch (error) {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    await stderrDone;
    throw new Error(`${args.join(" ")} did not print a ready line: ${(error as Error).message}\n${stderrText}`);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const stdoutDone = (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
  if (!ready) {
    const status = await child.status;
    await stdoutDone;
    await stderrDone;
    throw new Error(`${args.join(" ")} exited (${status.code}) before ready:\n${stderrText}`);
  }
  let exited: Promise<Deno.CommandStatus> | undefined;
  const finish = async () => {
    exited ??= child.status;
    const status = await exited;
    await stdoutDone;
    await stderrDone;
    return status;
  };
  return {
    ready,
    child,
    stderr: () => stderrText,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      return (await finish()).code;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await finish();
    },
  };
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: `denomq-${prefix}-` });
  return { path, remove: () => Deno.remove(path, { recursive: true }).catch(() => {}) };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A NameServer and a broker process on free ports with a temporary store. */
export interface TestCluster {
  namesrv: string;
  /** The broker's `ip:port`. */
  brokerAddr: string;
  brokerPort: number;
  storeDir: string;
  nameServer: RoleProcess;
  broker: RoleProcess;
  /** Stops the broker (SIGTERM), keeping the store; returns its exit code. */
  stopBroker(): Promise<number>;
  /** SIGKILLs the broker, keeping the store. */
  killBroker(): Promise<void>;
  /** Starts the broker again on the same port and store. */
  restartBroker(): Promise<void>;
  close(): Promise<void>;
}

/** Small segments keep tests quick: a 1 GiB segment takes seconds to pre-allocate. */
export const TEST_SEGMENT_BYTES = 8 * 1024 * 1024;

/** Starts a NameServer and a broker; `settings` are broker.conf keys, `brokerArgs` extra flags. */
export async function startCluster(
  settings: Record<string, string> = {},
  brokerArgs: string[] = [],
): Promise<TestCluster> {
  const dir = await tempDir("cluster");
  const nameServer = await startRole(["nameserver", "--port", "0"]);
  const namesrv = `127.0.0.1:${nameServer.ready.port}`;
  const merged: Record<string, string> = { mappedFileSizeCommitLog: String(TEST_SEGMENT_BYTES), ...settings };
  const setArgs = Object.entries(merged).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
  let port = 0;
  const launch = async () => {
    const store = merged.storePathRootDir ? [] : ["--store", dir.path];
    const broker = await startRole([
      "broker",
      "--port",
      String(port),
      "-n",
      namesrv,
      ...store,
      ...setArgs,
      ...brokerArgs,
    ]);
    port = Number(broker.ready.port);
    return broker;
  };
  const cluster: TestCluster = {
    namesrv,
    brokerAddr: "",
    brokerPort: 0,
    storeDir: dir.path,
    nameServer,
    broker: await launch(),
    stopBroker: () => cluster.broker.stop(),
    killBroker: () => cluster.broker.kill(),
    async restartBroker() {
      cluster.broker = await launch();
    },
    async close() {
      await cluster.broker.stop();
      await nameServer.stop();
      await dir.remove();
    },
  };
  cluster.brokerAddr = String(cluster.broker.ready.addr);
  cluster.brokerPort = port;
  return cluster;
}
