/**
 * The broker's small state files under `<storePathRootDir>/config/` (topics.json,
 * subscriptionGroup.json, consumerOffset.json, delayOffset.json), in RocketMQ's formats.
 *
 * Written atomically: the new content goes to `<name>.tmp`, is fdatasync'd, then renamed over
 * the file, whose previous content is kept as `<name>.bak` — a crash at any point leaves one
 * complete version. Reading falls back to the `.bak` when the main file is missing or corrupt.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { parseFastJson } from "../protocol/fastjson.ts";

const encoder = new TextEncoder();

/** Reads and parses a config file, falling back to its `.bak`; undefined when neither exists. */
export async function readConfigFile(path: string, log: Logger): Promise<unknown> {
  for (const candidate of [path, `${path}.bak`]) {
    let text: string;
    try {
      text = await Deno.readTextFile(candidate);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    if (text.trim() === "") continue;
    try {
      return parseFastJson(text);
    } catch (error) {
      log.error("Config file {path} is corrupt ({error}); trying its backup", {
        path: candidate,
        error: String(error),
      });
    }
  }
  return undefined;
}

/** Writes a config file atomically, keeping the previous version as `.bak`. */
export async function writeConfigFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.syncData();
  } finally {
    file.close();
  }
  try {
    await Deno.copyFile(path, `${path}.bak`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.rename(tmp, path);
}

/**
 * Coalesces writes of one config file: `markDirty()` schedules a write; at most one write runs
 * at a time and the latest content wins, so a burst of changes costs one or two writes.
 */
export class ConfigFileWriter {
  readonly #path: string;
  readonly #render: () => string;
  readonly #log: Logger;
  #dirty = false;
  #running: Promise<void> | undefined;

  constructor(path: string, render: () => string, log: Logger) {
    this.#path = path;
    this.#render = render;
    this.#log = log;
  }

  /** Notes that the content changed. */
  markDirty(): void {
    this.#dirty = true;
  }

  /** Writes if dirty; concurrent calls share one run. */
  flush(): Promise<void> {
    if (this.#running) return this.#running.then(() => this.#dirty ? this.flush() : undefined);
    if (!this.#dirty) return Promise.resolve();
    this.#dirty = false;
    const text = this.#render();
    this.#running = writeConfigFile(this.#path, text).catch((error) => {
      this.#dirty = true; // try again next time
      this.#log.error("Cannot write {path}: {error}", { path: this.#path, error: String(error) });
    }).finally(() => this.#running = undefined);
    return this.#running;
  }
}
