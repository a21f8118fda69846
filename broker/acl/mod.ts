/**
 * Plain ACL for the broker (`aclEnable=true`): loads `plain_acl.yml`, checks every request, and
 * reloads the file when it changes.
 *
 * Fails closed: a missing, unreadable or invalid file stops the broker from starting; on reload
 * a bad file is logged and the last good rules stay in force — never "allow all".
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { RemotingCommand } from "../../protocol/command.ts";
import { ConfigError } from "../config.ts";
import { type AclRules, parsePlainAcl } from "./plain_acl.ts";
import { aclRemark, checkRequest } from "./validator.ts";

export { AclConfigError, parsePlainAcl } from "./plain_acl.ts";
export { aclRemark, checkRequest } from "./validator.ts";

/** How often the file is looked at for changes (RocketMQ watches every 500 ms). */
const RELOAD_CHECK_INTERVAL_MS = 1000;
/** Largest ACL file read: a bound on a mistake such as pointing at a log file. */
const ACL_FILE_BYTES_MAX = 4 * 1024 * 1024;

async function readRules(path: string): Promise<{ rules: AclRules; stamp: string }> {
  const info = await Deno.stat(path);
  if (info.size > ACL_FILE_BYTES_MAX) {
    throw new Error(`ACL file "${path}" is ${info.size} bytes, limit is ${ACL_FILE_BYTES_MAX} bytes`);
  }
  const text = await Deno.readTextFile(path);
  return { rules: parsePlainAcl(text), stamp: `${info.mtime?.getTime()}:${info.size}:${text.length}` };
}

/** A loaded, self-reloading rule set. */
export class AclService {
  readonly #path: string;
  readonly #log: Logger;
  #rules: AclRules;
  #stamp: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking = false;

  private constructor(path: string, log: Logger, rules: AclRules, stamp: string) {
    this.#path = path;
    this.#log = log;
    this.#rules = rules;
    this.#stamp = stamp;
  }

  /**
   * Loads `path`.
   *
   * @throws {ConfigError} when the file is missing, unreadable or invalid (the broker must not start).
   */
  static async open(path: string, log: Logger): Promise<AclService> {
    let loaded;
    try {
      loaded = await readRules(path);
    } catch (error) {
      throw new ConfigError(`Cannot enable ACL (aclEnable=true) with aclFile "${path}": ${(error as Error).message}`, {
        cause: error,
      });
    }
    log.info("ACL enabled from {path}: {accounts} accounts", { path, accounts: loaded.rules.accounts.size });
    const service = new AclService(path, log, loaded.rules, loaded.stamp);
    service.#timer = setInterval(() => void service.#reloadIfChanged(), RELOAD_CHECK_INTERVAL_MS);
    return service;
  }

  /** Checks a request; returns the remark to answer with when it is refused. */
  check(request: RemotingCommand, remoteIp: string): string | undefined {
    const message = checkRequest(this.#rules, request, remoteIp);
    return message === undefined ? undefined : aclRemark(message);
  }

  /** Re-reads the file now if it changed (the timer does this every second). */
  async reloadIfChanged(): Promise<void> {
    await this.#reloadIfChanged();
  }

  async #reloadIfChanged(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      let loaded;
      try {
        const info = await Deno.stat(this.#path);
        const quick = `${info.mtime?.getTime()}:${info.size}:`;
        if (this.#stamp.startsWith(quick)) return;
        loaded = await readRules(this.#path);
      } catch (error) {
        if (!this.#stamp.startsWith("failed:")) {
          this.#log.error("ACL file {path} cannot be used ({error}); keeping the last good rules", {
            path: this.#path,
            error: (error as Error).message,
          });
        }
        this.#stamp = `failed:${Date.now()}`;
        return;
      }
      this.#rules = loaded.rules;
      this.#stamp = loaded.stamp;
      this.#log.info("ACL reloaded from {path}: {accounts} accounts", {
        path: this.#path,
        accounts: loaded.rules.accounts.size,
      });
    } finally {
      this.#checking = false;
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
