/**
 * Moves commit-log bytes from the in-memory write chunks to segment files and fdatasyncs them.
 *
 * Requests run one after another, in order: `ranges` are written with positional writes (short
 * writes are resumed), then, if `sync`, every file written since the last sync is fdatasynced.
 * The commit log builds each request from everything appended since the previous one: that is the
 * group commit.
 *
 * Two transports run the same {@linkcode FlushCore}:
 * - {@linkcode WorkerFlusher} (the default): a dedicated Worker (`flush_worker.ts`) using the
 *   synchronous file API (`pwrite`, `fdatasync`). bench/README measured `syncDataSync` in a worker
 *   at ~0.97x fio's fdatasync rate where async `syncData()` reached ~0.6x; above all, the isolate
 *   never blocks on the disk, so a slow fdatasync stalls puts only, not pulls or heartbeats. Chunks
 *   are SharedArrayBuffers, so nothing is copied to get them there. The hand-off costs: in
 *   bench/store.ts (256 closed-loop SYNC_FLUSH producers) the worker reached ~0.75x the records per
 *   second of the inline flusher, whose isolate was blocked in fdatasync most of the run.
 * - {@linkcode InlineFlusher}: on the isolate's own thread, after a microtask; used with
 *   in-memory or fault-injecting file systems (which cannot cross into a Worker), in tests, and
 *   with `flushInWorker: false`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorCode, type FaultPlan, type StoreFile, type StoreFs } from "./_fs.ts";
import { assert } from "./_assert.ts";

const logger = getLogger(["denomq", "store"]);

/** Bytes of one chunk to write to a file. */
export interface FlushRange {
  path: string;
  filePosition: number;
  buffer: SharedArrayBuffer;
  start: number;
  end: number;
}

/** One round of the group commit. */
export interface FlushRequest {
  ranges: FlushRange[];
  /** fdatasync every file written since the last successful sync, after the writes. */
  sync: boolean;
  /**
   * Files written by another thread since the last sync (ASYNC_FLUSH writes done inline on the
   * isolate): a sync round fdatasyncs them too, since fdatasync covers a file's dirty pages
   * whichever descriptor wrote them.
   */
  alsoSync?: string[];
}

/** How a round ended. A failed round may have written part of its ranges. */
export type FlushResult =
  | { ok: true }
  | { ok: false; phase: "write" | "sync"; code: string; message: string; path: string };

/** Runs flush rounds somewhere. */
export interface Flusher {
  flush(request: FlushRequest): Promise<FlushResult>;
  /** Closes the flusher's handle of a file (before the file is deleted); ordered after earlier rounds. */
  closeFile(path: string): void;
  /** Closes every handle and stops. */
  stop(): Promise<void>;
}

/** The work of a round, on whatever thread runs it. */
export class FlushCore {
  #fs: StoreFs;
  #files = new Map<string, StoreFile>();
  /** Files written since the last successful sync, in first-write order. */
  #dirty = new Set<string>();

  constructor(fs: StoreFs) {
    this.#fs = fs;
  }

  #file(path: string): StoreFile {
    let file = this.#files.get(path);
    if (!file) {
      file = this.#fs.open(path);
      this.#files.set(path, file);
    }
    return file;
  }

  run(request: FlushRequest): FlushResult {
    let path = "";
    try {
      for (const range of request.ranges) {
        path = range.path;
        const file = this.#file(path);
        const bytes = new Uint8Array(range.buffer, range.start, range.end - range.start);
        let done = 0;
        while (done < bytes.length) {
          const n = file.writeAt(done === 0 ? bytes : bytes.subarray(done), range.filePosition + done);
          if (n <= 0) {
            throw Object.assign(new Error(`write of ${bytes.length - done} bytes made no progress`), { code: "EIO" });
          }
          done += n;
        }
        this.#dirty.add(path);
      }
    } catch (error) {
      return { ok: false, phase: "write", code: errorCode(error) || "EIO", message: String(error), path };
    }
    if (request.sync) {
      for (const other of request.alsoSync ?? []) this.#dirty.add(other);
      try {
        for (const dirtyPath of this.#dirty) {
          path = dirtyPath;
          this.#file(dirtyPath).syncData();
        }
        this.#dirty.clear();
      } catch (error) {
        return { ok: false, phase: "sync", code: errorCode(error) || "EIO", message: String(error), path };
      }
    }
    return { ok: true };
  }

  close(path: string): void {
    const file = this.#files.get(path);
    this.#files.delete(path);
    this.#dirty.delete(path);
    try {
      file?.close();
    } catch (error) {
      logger.warn("Cannot close {path}: {error}", { path, error: String(error) });
    }
  }

  closeAll(): void {
    for (const path of [...this.#files.keys()]) this.close(path);
  }
}

/** Runs rounds on the calling isolate, each after a microtask so appends can batch up. */
export class InlineFlusher implements Flusher {
  #core: FlushCore;
  /** Tests set this to hold rounds until it resolves (a disk that stalls). */
  gate: Promise<void> | undefined;
  /** Like `gate`, but holds only rounds that end with an fdatasync (a slow fsync, fast writes). */
  syncGate: Promise<void> | undefined;
  /** Rounds run. */
  rounds = 0;

  constructor(fs: StoreFs) {
    this.#core = new FlushCore(fs);
  }

  async flush(request: FlushRequest): Promise<FlushResult> {
    await Promise.resolve();
    while (this.gate) {
      const gate = this.gate;
      await gate;
      if (this.gate === gate) this.gate = undefined;
    }
    while (request.sync && this.syncGate) {
      const gate = this.syncGate;
      await gate;
      if (this.syncGate === gate) this.syncGate = undefined;
    }
    this.rounds++;
    return this.#core.run(request);
  }

  closeFile(path: string): void {
    this.#core.close(path);
  }

  stop(): Promise<void> {
    this.#core.closeAll();
    return Promise.resolve();
  }
}

/** Messages to the flush worker. */
export type FlushWorkerRequest =
  | { type: "init"; faultPlan?: FaultPlan }
  | { type: "flush"; id: number; request: FlushRequest }
  | { type: "close"; path: string }
  | { type: "stop"; id: number };

/** Messages from the flush worker. */
export type FlushWorkerReply = { type: "flushed"; id: number; result: FlushResult } | { type: "stopped"; id: number };

/**
 * Rounds pending in the worker. The commit log keeps at most two in flight; the bound guards against a
 * bug turning that into an unbounded queue of SharedArrayBuffer references.
 */
const workerPendingMax = 16;

/** Runs rounds in a dedicated Worker with the synchronous file API. */
export class WorkerFlusher implements Flusher {
  #worker: Worker;
  #nextId = 1;
  #pending = new Map<number, (result: FlushResult) => void>();
  #stopped: ((v: void) => void) | undefined;
  #dead: string | undefined;
  #terminated = false;

  constructor(faultPlan?: FaultPlan) {
    this.#worker = new Worker(new URL("./flush_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<FlushWorkerReply>) => this.#onReply(event.data);
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#die(`flush worker failed: ${event.message}`);
    };
    this.#worker.postMessage({ type: "init", faultPlan } satisfies FlushWorkerRequest);
  }

  #onReply(reply: FlushWorkerReply): void {
    if (reply.type === "stopped") {
      this.#stopped?.();
      return;
    }
    const resolve = this.#pending.get(reply.id);
    assert(resolve !== undefined, `flush worker answered unknown round ${reply.id}`);
    this.#pending.delete(reply.id);
    resolve(reply.result);
  }

  #die(message: string): void {
    logger.error("{message}", { message });
    this.#dead = message;
    for (const resolve of this.#pending.values()) {
      resolve({ ok: false, phase: "write", code: "EWORKER", message, path: "" });
    }
    this.#pending.clear();
    this.#stopped?.();
  }

  flush(request: FlushRequest): Promise<FlushResult> {
    if (this.#dead) {
      return Promise.resolve({ ok: false, phase: "write", code: "EWORKER", message: this.#dead, path: "" });
    }
    assert(this.#pending.size < workerPendingMax, `flush rounds pending must stay under ${workerPendingMax}`);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#worker.postMessage({ type: "flush", id, request } satisfies FlushWorkerRequest);
    });
  }

  closeFile(path: string): void {
    if (!this.#dead) this.#worker.postMessage({ type: "close", path } satisfies FlushWorkerRequest);
  }

  async stop(): Promise<void> {
    if (this.#terminated) return;
    this.#terminated = true;
    if (!this.#dead) {
      const stopped = new Promise<void>((resolve) => this.#stopped = resolve);
      this.#worker.postMessage({ type: "stop", id: 0 } satisfies FlushWorkerRequest);
      await stopped;
    }
    this.#worker.terminate();
  }
}
