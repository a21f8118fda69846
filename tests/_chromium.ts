/**
 * Test helper: Debian's Chromium for the dashboard's browser test, installed with apt-get when
 * missing (CI runs as root on a fresh machine), driven by playwright-core from npm (which never
 * downloads a browser of its own).
 *
 * @module
 */

import { type Browser, chromium } from "playwright-core";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Flags for a headless run on a machine whose network is closed: without the background-network
 * ones Chromium keeps trying Google's services at start.
 */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

async function apt(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const out = await new Deno.Command("apt-get", {
      args,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { ok: out.success, output: text.slice(-2000) };
  } catch (error) {
    return { ok: false, output: (error as Error).message };
  }
}

/**
 * Makes sure Chromium is there, installing Debian's package when it is not.
 *
 * @returns undefined when ready, or why it cannot be had (the test is then skipped with that reason).
 */
export async function ensureChromium(): Promise<string | undefined> {
  if (exists(CHROMIUM_PATH)) return undefined;
  if (Deno.uid?.() !== 0) return `${CHROMIUM_PATH} is missing and installing it needs root: apt-get install chromium`;
  console.error(`${CHROMIUM_PATH} is missing: installing Debian's chromium package (apt-get install -y chromium)`);
  let result = await apt(["install", "-y", "--no-install-recommends", "chromium"]);
  if (!result.ok) {
    await apt(["update"]);
    result = await apt(["install", "-y", "--no-install-recommends", "chromium"]);
  }
  if (!exists(CHROMIUM_PATH)) return `Cannot install chromium with apt-get: ${result.output.trim().split("\n").at(-1)}`;
  return undefined;
}

/** Launches headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}
