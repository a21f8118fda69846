/**
 * What the peer benchmarks share: finding a free port, installing a peer from Debian's packages
 * when it is missing, starting a server process and stopping it by its pid.
 *
 * @module
 */

import { status } from "../_report.ts";

/** A free TCP port on loopback (bound and released; another process could take it meanwhile). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Whether `command --version` (or `args`) runs. */
export async function hasCommand(command: string, args = ["--version"]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output();
    return success;
  } catch {
    return false;
  }
}

let aptUpdated = false;

/**
 * Makes sure `commands` exist, installing `packages` with apt-get when one is missing.
 *
 * @returns undefined when they are there, else why they could not be installed.
 */
export async function ensureInstalled(commands: string[], packages: string[]): Promise<string | undefined> {
  const missing = [];
  for (const command of commands) if (!await hasCommand(command)) missing.push(command);
  if (missing.length === 0) return undefined;
  status(`peers: ${missing.join(", ")} missing; installing ${packages.join(" ")} with apt-get`);
  const apt = async (args: string[]) => {
    try {
      const out = await new Deno.Command("apt-get", {
        args,
        env: { DEBIAN_FRONTEND: "noninteractive" },
        stdout: "null",
        stderr: "piped",
      }).output();
      return out.success ? undefined : new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    } catch (error) {
      return (error as Error).message;
    }
  };
  if (!aptUpdated) {
    aptUpdated = true;
    await apt(["update", "-qq"]);
  }
  const failure = await apt(["install", "-y", "-qq", ...packages]);
  if (failure) return `apt-get install ${packages.join(" ")} failed: ${failure}`;
  for (const command of missing) {
    if (!await hasCommand(command)) return `${command} is still missing after installing ${packages.join(" ")}`;
  }
  return undefined;
}

/** Waits until `port` on loopback accepts a connection. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Nothing listens on 127.0.0.1:${port}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A server process started by a peer bench. */
export interface PeerProcess {
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; waits for the exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `command args` with output discarded (the servers log to files of their own). */
export function spawnServer(command: string, args: string[]): PeerProcess {
  const child = new Deno.Command(command, { args, stdin: "null", stdout: "null", stderr: "piped" }).spawn();
  void child.stderr.pipeTo(new WritableStream()).catch(() => {});
  let stopped: Promise<void> | undefined;
  return {
    pid: child.pid,
    stop(graceMs = 5000) {
      stopped ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch {
          return; // already gone
        }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // gone meanwhile
          }
        }, graceMs);
        await child.status;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}

/** Runs a command to completion and returns its stdout; throws with its stderr on failure. */
export async function runToCompletion(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  if (!out.success) {
    throw new Error(`${command} ${args.slice(0, 3).join(" ")}… failed: ${decoder.decode(out.stderr).trim()}`);
  }
  return decoder.decode(out.stdout);
}
