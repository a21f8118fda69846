/**
 * The store's only file-I/O seam, and the test file systems that lie.
 *
 * - {@linkcode denoFs}: the real one. Positional `pwrite`/`pread` and `fdatasync` through
 *   `node:fs` on numeric descriptors (one syscall each, no seek), async variants where a call must
 *   not block the isolate, and zero-filling through `Deno.FsFile` so it runs on the thread pool.
 * - {@linkcode FaultyFs}: wraps another file system and fails the Nth write or sync, writes short,
 *   or answers ENOSPC, following a serializable {@linkcode FaultPlan} (so a flush Worker can apply
 *   the same plan to its own descriptors).
 * - {@linkcode MemoryFs}: files in memory with a page cache and a disk: `crash()` keeps what was
 *   synced plus a random subset of the unsynced 512-byte sectors (torn writes), as a power cut would.
 *
 * Everything else in the store reaches files only through {@linkcode StoreFs}.
 *
 * @module
 */

import * as nodeFs from "node:fs";
import { assert } from "./_assert.ts";

/** An open file, read-write. Positions are absolute; no call moves a cursor. */
export interface StoreFile {
  readonly path: string;
  /** Writes at `position`; returns the bytes written, which may be fewer than asked (a short write). */
  writeAt(bytes: Uint8Array, position: number): number;
  /** Reads at `position`; returns the bytes read, fewer at end of file. */
  readAt(target: Uint8Array, position: number): number;
  /** fdatasync, blocking the calling thread. */
  syncData(): void;
  /** fdatasync on the thread pool. */
  syncDataAsync(): Promise<void>;
  /** fsync (data and metadata), blocking. */
  sync(): void;
  truncate(length: number): void;
  size(): number;
  close(): void;
}

/** A directory entry. */
export interface StoreDirEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}

/** Stop signal and pacing for {@linkcode StoreFs.preallocate}. */
export interface PreallocateControl {
  stopped: boolean;
  /** Awaited after each slice: lets the caller slow the zero-fill down. */
  pace?: (sliceBytes: number) => Promise<void>;
}

/** The file-system operations the store uses. Paths are plain strings joined with "/". */
export interface StoreFs {
  /** Opens read-write; creates the file when `create`. */
  open(path: string, options?: { create?: boolean }): StoreFile;
  exists(path: string): boolean;
  /** Creates a directory and its parents; no error when it exists. */
  mkdir(path: string): void;
  /** Entries of a directory; empty when it does not exist. */
  readDir(path: string): StoreDirEntry[];
  remove(path: string, options?: { recursive?: boolean }): void;
  rename(from: string, to: string): void;
  /** fsync a directory so a create, rename or remove in it is durable. */
  syncDir(path: string): void;
  /** Total and free bytes of the file system holding `path`; undefined when unknown. */
  diskUsage(path: string): { totalBytes: number; freeBytes: number } | undefined;
  /** Last modification time of a file in ms since the epoch. */
  modifiedMs(path: string): number;
  /** Takes an exclusive lock on `path` (created if needed); undefined when another holder has it. */
  lock(path: string): (() => void) | undefined;
  /**
   * Zero-fills `path` from its current length up to `bytes` (a pre-allocated segment keeps
   * fdatasync from also committing size metadata), then fsyncs it. Runs off the isolate's thread.
   * Returns the length reached, short of `bytes` when `control.stopped` was set.
   */
  preallocate(path: string, bytes: number, control: PreallocateControl): Promise<number>;
}

/** The error code (`"ENOSPC"`, `"EIO"`, `"ENOENT"`…) of a file-system error, or `""`. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

/** An error carrying a POSIX-style code, as `node:fs` throws them. */
export function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/**
 * Zero slice for pre-allocation: 1 MiB keeps each thread-pool write long enough to amortise the
 * hop, short enough that `stop` is honoured within a millisecond or two, and fine enough to pace.
 */
const preallocateSliceBytes = 1024 * 1024;
let zeroSlice: Uint8Array | undefined;

class DenoFile implements StoreFile {
  readonly path: string;
  #fd: number;

  constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  writeAt(bytes: Uint8Array, position: number): number {
    return nodeFs.writeSync(this.#fd, bytes, 0, bytes.length, position);
  }

  readAt(target: Uint8Array, position: number): number {
    let total = 0;
    while (total < target.length) {
      const n = nodeFs.readSync(this.#fd, target, total, target.length - total, position + total);
      if (n === 0) break;
      total += n;
    }
    return total;
  }

  syncData(): void {
    nodeFs.fdatasyncSync(this.#fd);
  }

  syncDataAsync(): Promise<void> {
    return new Promise((resolve, reject) => nodeFs.fdatasync(this.#fd, (e) => e ? reject(e) : resolve()));
  }

  sync(): void {
    nodeFs.fsyncSync(this.#fd);
  }

  truncate(length: number): void {
    nodeFs.ftruncateSync(this.#fd, length);
  }

  size(): number {
    return nodeFs.fstatSync(this.#fd).size;
  }

  close(): void {
    nodeFs.closeSync(this.#fd);
  }
}

/** The real file system. */
export const denoFs: StoreFs = {
  open(path, options = {}) {
    const flags = nodeFs.constants.O_RDWR | (options.create ? nodeFs.constants.O_CREAT : 0);
    return new DenoFile(path, nodeFs.openSync(path, flags, 0o644));
  },
  exists(path) {
    try {
      Deno.statSync(path);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  },
  mkdir(path) {
    Deno.mkdirSync(path, { recursive: true });
  },
  readDir(path) {
    try {
      return [...Deno.readDirSync(path)].map((e) => ({ name: e.name, isFile: e.isFile, isDirectory: e.isDirectory }));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
  },
  remove(path, options = {}) {
    Deno.removeSync(path, { recursive: options.recursive ?? false });
  },
  rename(from, to) {
    Deno.renameSync(from, to);
  },
  syncDir(path) {
    const dir = Deno.openSync(path, { read: true });
    try {
      dir.syncSync();
    } finally {
      dir.close();
    }
  },
  modifiedMs(path) {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  },
  diskUsage(path) {
    try {
      const s = nodeFs.statfsSync(path);
      return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
    } catch {
      return undefined;
    }
  },
  lock(path) {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    if (!file.tryLockSync(true)) {
      file.close();
      return undefined;
    }
    return () => file.close();
  },
  async preallocate(path, bytes, control) {
    zeroSlice ??= new Uint8Array(preallocateSliceBytes);
    const file = await Deno.open(path, { read: true, write: true, create: true });
    try {
      let length = (await file.stat()).size;
      await file.seek(length, Deno.SeekMode.Start);
      while (length < bytes && !control.stopped) {
        const slice = zeroSlice.subarray(0, Math.min(zeroSlice.length, bytes - length));
        let written = 0;
        while (written < slice.length) written += await file.write(slice.subarray(written));
        length += slice.length;
        if (control.pace) await control.pace(slice.length);
      }
      // fsync, not fdatasync: the point is to commit the extents and size now, once.
      await file.sync();
      return length;
    } finally {
      file.close();
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Fault injection

/** Operations a {@linkcode FaultRule} can target; `create` is an open that creates the file. */
export type FaultOp = "write" | "sync" | "open" | "create" | "preallocate";

/** One injected fault. Calls are counted per rule, over the files whose path matches. */
export interface FaultRule {
  op: FaultOp;
  /** 1-based number of the matching call that fails. */
  nth: number;
  /** `"error"` throws; `"short"` (writes only) writes half the bytes and reports that. */
  kind?: "error" | "short";
  /** Error code thrown, default `"EIO"`. */
  code?: string;
  /** Only paths containing this string count. */
  pathIncludes?: string;
  /** Fail every matching call from the Nth on, not just the Nth. */
  sticky?: boolean;
}

/** A serializable list of faults, so a Worker can rebuild the same {@linkcode FaultyFs}. */
export interface FaultPlan {
  rules: FaultRule[];
}

/** Wraps a file system and injects the faults of a plan; `rules` may be changed while running. */
export class FaultyFs implements StoreFs {
  readonly base: StoreFs;
  rules: FaultRule[];
  /** When set, {@linkcode diskUsage} reports this fraction (0..1) of the disk in use. */
  diskUsedRatio: number | undefined;
  /**
   * Called when a rule fires, before the fault happens: a test can cut the power here
   * ({@linkcode MemoryFs.crash}) so the crash lands between a write and its fdatasync.
   */
  onFault: ((rule: FaultRule, op: FaultOp, path: string) => void) | undefined;
  #counts = new Map<FaultRule, number>();

  constructor(base: StoreFs, plan: FaultPlan = { rules: [] }) {
    this.base = base;
    this.rules = plan.rules.map((r) => ({ ...r }));
  }

  /** Replaces the rules and restarts counting. */
  setRules(rules: FaultRule[]): void {
    this.rules = rules;
    this.#counts.clear();
  }

  /** The first rule that fires for this call, counting the call against every matching rule. */
  check(op: FaultOp, path: string): FaultRule | undefined {
    let fired: FaultRule | undefined;
    for (const rule of this.rules) {
      if (rule.op !== op || (rule.pathIncludes !== undefined && !path.includes(rule.pathIncludes))) continue;
      const count = (this.#counts.get(rule) ?? 0) + 1;
      this.#counts.set(rule, count);
      if (count === rule.nth || (rule.sticky && count >= rule.nth)) fired ??= rule;
    }
    if (fired) this.onFault?.(fired, op, path);
    return fired;
  }

  open(path: string, options?: { create?: boolean }): StoreFile {
    const rule = this.check(options?.create && !this.base.exists(path) ? "create" : "open", path);
    if (rule) throw fsError(rule.code ?? "EIO", `injected open failure on "${path}"`);
    return new FaultyFile(this, this.base.open(path, options));
  }
  exists(path: string): boolean {
    return this.base.exists(path);
  }
  mkdir(path: string): void {
    this.base.mkdir(path);
  }
  readDir(path: string): StoreDirEntry[] {
    return this.base.readDir(path);
  }
  remove(path: string, options?: { recursive?: boolean }): void {
    this.base.remove(path, options);
  }
  rename(from: string, to: string): void {
    this.base.rename(from, to);
  }
  syncDir(path: string): void {
    this.base.syncDir(path);
  }
  diskUsage(path: string): { totalBytes: number; freeBytes: number } | undefined {
    if (this.diskUsedRatio === undefined) return this.base.diskUsage(path);
    const totalBytes = 1e12;
    return { totalBytes, freeBytes: Math.round(totalBytes * (1 - this.diskUsedRatio)) };
  }
  modifiedMs(path: string): number {
    return this.base.modifiedMs(path);
  }
  lock(path: string): (() => void) | undefined {
    return this.base.lock(path);
  }
  preallocate(path: string, bytes: number, control: PreallocateControl): Promise<number> {
    const rule = this.check("preallocate", path);
    if (rule) return Promise.reject(fsError(rule.code ?? "EIO", `injected preallocate failure on "${path}"`));
    return this.base.preallocate(path, bytes, control);
  }
}

class FaultyFile implements StoreFile {
  readonly path: string;
  #fs: FaultyFs;
  #file: StoreFile;

  constructor(fs: FaultyFs, file: StoreFile) {
    this.#fs = fs;
    this.#file = file;
    this.path = file.path;
  }

  writeAt(bytes: Uint8Array, position: number): number {
    const rule = this.#fs.check("write", this.path);
    if (rule && rule.kind === "short") {
      return this.#file.writeAt(bytes.subarray(0, Math.max(1, bytes.length >> 1)), position);
    }
    if (rule) throw fsError(rule.code ?? "EIO", `injected write failure on "${this.path}"`);
    return this.#file.writeAt(bytes, position);
  }
  readAt(target: Uint8Array, position: number): number {
    return this.#file.readAt(target, position);
  }
  syncData(): void {
    const rule = this.#fs.check("sync", this.path);
    if (rule) throw fsError(rule.code ?? "EIO", `injected fdatasync failure on "${this.path}"`);
    this.#file.syncData();
  }
  syncDataAsync(): Promise<void> {
    const rule = this.#fs.check("sync", this.path);
    if (rule) return Promise.reject(fsError(rule.code ?? "EIO", `injected fdatasync failure on "${this.path}"`));
    return this.#file.syncDataAsync();
  }
  sync(): void {
    const rule = this.#fs.check("sync", this.path);
    if (rule) throw fsError(rule.code ?? "EIO", `injected fsync failure on "${this.path}"`);
    this.#file.sync();
  }
  truncate(length: number): void {
    this.#file.truncate(length);
  }
  size(): number {
    return this.#file.size();
  }
  close(): void {
    this.#file.close();
  }
}

// ---------------------------------------------------------------------------------------------
// In-memory file system with crash simulation

/** Sector size for torn writes: a power cut persists each 512-byte sector or not. */
const sectorBytes = 512;

interface MemoryFileState {
  /** What reads see (the page cache). */
  data: Uint8Array<ArrayBuffer>;
  length: number;
  /** What survives a crash. */
  durable: Uint8Array<ArrayBuffer>;
  durableLength: number;
  /** Writes since the last sync, in order, as [position, bytes]. */
  unsynced: Array<[number, Uint8Array]>;
  modifiedMs: number;
}

function grow(bytes: Uint8Array<ArrayBuffer>, length: number): Uint8Array<ArrayBuffer> {
  if (length <= bytes.length) return bytes;
  const next = new Uint8Array(Math.max(length, bytes.length * 2, 4096));
  next.set(bytes);
  return next;
}

/**
 * Files in memory, for fast deterministic tests. Directory operations and truncation are durable at
 * once; file contents only after `syncData`/`sync`. {@linkcode crash} models a power cut.
 */
export class MemoryFs implements StoreFs {
  #files = new Map<string, MemoryFileState>();
  #dirs = new Set<string>(["", "/"]);
  #locks = new Set<string>();
  /** Bumped by crash(): handles from before a crash throw on use. */
  #epoch = 0;
  totalBytes = 1e12;
  /** Time source for modification times. */
  now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Sets a file's modification time (for retention tests). */
  setModified(path: string, ms: number): void {
    this.#state(path).modifiedMs = ms;
  }

  /** File names and contents as reads see them (for tests). */
  snapshot(path: string): Uint8Array | undefined {
    const f = this.#files.get(path);
    return f ? f.data.slice(0, f.length) : undefined;
  }

  /** Replaces a file's content, durable (for tests that corrupt files). */
  overwrite(path: string, content: Uint8Array): void {
    const f = this.#state(path);
    f.data = content.slice();
    f.length = content.length;
    f.durable = content.slice();
    f.durableLength = content.length;
    f.unsynced = [];
    f.modifiedMs = this.now();
  }

  /**
   * A power cut: every file reverts to its synced content, plus each unsynced sector with
   * probability one half (`random` returns [0, 1)). Locks are released; old handles die.
   */
  crash(random: () => number): void {
    this.#epoch++;
    this.#locks.clear();
    for (const f of this.#files.values()) {
      let content = f.durable.slice(0, Math.max(f.durableLength, 0));
      let length = f.durableLength;
      for (const [position, bytes] of f.unsynced) {
        for (let s = 0; s < bytes.length;) {
          const sectorEnd = Math.min(
            bytes.length,
            (Math.floor((position + s) / sectorBytes) + 1) * sectorBytes - position,
          );
          if (random() < 0.5) {
            content = grow(content, position + sectorEnd);
            content.set(bytes.subarray(s, sectorEnd), position + s);
            length = Math.max(length, position + sectorEnd);
          }
          s = sectorEnd;
        }
      }
      f.data = content.slice();
      f.durable = content;
      f.length = length;
      f.durableLength = length;
      f.unsynced = [];
    }
  }

  #state(path: string): MemoryFileState {
    const f = this.#files.get(path);
    if (!f) throw fsError("ENOENT", `no such file "${path}"`);
    return f;
  }

  #parent(path: string): string {
    const i = path.lastIndexOf("/");
    return i <= 0 ? "/" : path.slice(0, i);
  }

  open(path: string, options: { create?: boolean } = {}): StoreFile {
    if (!this.#files.has(path)) {
      if (!options.create) throw fsError("ENOENT", `no such file "${path}"`);
      if (!this.#dirs.has(this.#parent(path))) throw fsError("ENOENT", `no directory for "${path}"`);
      this.#files.set(path, {
        data: new Uint8Array(0),
        length: 0,
        durable: new Uint8Array(0),
        durableLength: 0,
        unsynced: [],
        modifiedMs: this.now(),
      });
    }
    return new MemoryFile(this, path, this.#epoch);
  }

  /** @internal */
  fileState(path: string, epoch: number): MemoryFileState {
    if (epoch !== this.#epoch) throw fsError("EBADF", `handle of "${path}" predates a crash`);
    return this.#state(path);
  }

  exists(path: string): boolean {
    return this.#files.has(path) || this.#dirs.has(path);
  }
  mkdir(path: string): void {
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i++) this.#dirs.add(parts.slice(0, i).join("/") || "/");
  }
  readDir(path: string): StoreDirEntry[] {
    const prefix = path.endsWith("/") ? path : path + "/";
    const out = new Map<string, StoreDirEntry>();
    for (const p of this.#files.keys()) {
      if (p.startsWith(prefix) && !p.slice(prefix.length).includes("/")) {
        out.set(p.slice(prefix.length), { name: p.slice(prefix.length), isFile: true, isDirectory: false });
      }
    }
    for (const d of this.#dirs) {
      if (d.startsWith(prefix) && d.length > prefix.length && !d.slice(prefix.length).includes("/")) {
        out.set(d.slice(prefix.length), { name: d.slice(prefix.length), isFile: false, isDirectory: true });
      }
    }
    return [...out.values()];
  }
  remove(path: string, options: { recursive?: boolean } = {}): void {
    if (this.#files.delete(path)) return;
    if (!this.#dirs.has(path)) throw fsError("ENOENT", `no such file "${path}"`);
    const prefix = path + "/";
    const children = [...this.#files.keys(), ...this.#dirs].filter((p) => p.startsWith(prefix));
    if (children.length > 0 && !options.recursive) throw fsError("ENOTEMPTY", `directory "${path}" not empty`);
    for (const c of children) {
      this.#files.delete(c);
      this.#dirs.delete(c);
    }
    this.#dirs.delete(path);
  }
  rename(from: string, to: string): void {
    const f = this.#state(from);
    this.#files.delete(from);
    this.#files.set(to, f);
  }
  syncDir(_path: string): void {}
  modifiedMs(path: string): number {
    return this.#state(path).modifiedMs;
  }
  diskUsage(_path: string): { totalBytes: number; freeBytes: number } {
    let used = 0;
    for (const f of this.#files.values()) used += f.length;
    return { totalBytes: this.totalBytes, freeBytes: Math.max(0, this.totalBytes - used) };
  }
  lock(path: string): (() => void) | undefined {
    if (this.#locks.has(path)) return undefined;
    this.#locks.add(path);
    if (!this.#files.has(path)) this.open(path, { create: true });
    const epoch = this.#epoch;
    return () => {
      if (epoch === this.#epoch) this.#locks.delete(path);
    };
  }
  preallocate(path: string, bytes: number, _control: PreallocateControl): Promise<number> {
    const f = this.open(path, { create: true });
    const length = f.size();
    if (length < bytes) f.writeAt(new Uint8Array(bytes - length), length);
    f.sync();
    f.close();
    return Promise.resolve(Math.max(length, bytes));
  }
}

class MemoryFile implements StoreFile {
  readonly path: string;
  #fs: MemoryFs;
  #epoch: number;
  #closed = false;

  constructor(fs: MemoryFs, path: string, epoch: number) {
    this.#fs = fs;
    this.path = path;
    this.#epoch = epoch;
  }

  #state(): MemoryFileState {
    if (this.#closed) throw fsError("EBADF", `"${this.path}" is closed`);
    return this.#fs.fileState(this.path, this.#epoch);
  }

  writeAt(bytes: Uint8Array, position: number): number {
    const f = this.#state();
    f.data = grow(f.data, position + bytes.length);
    f.data.set(bytes, position);
    f.length = Math.max(f.length, position + bytes.length);
    f.unsynced.push([position, bytes.slice()]);
    f.modifiedMs = this.#fs.now();
    return bytes.length;
  }
  readAt(target: Uint8Array, position: number): number {
    const f = this.#state();
    const n = Math.max(0, Math.min(target.length, f.length - position));
    target.set(f.data.subarray(position, position + n));
    return n;
  }
  syncData(): void {
    const f = this.#state();
    f.durable = grow(f.durable, f.length);
    for (const [position, bytes] of f.unsynced) f.durable.set(bytes, position);
    f.durableLength = f.length;
    f.unsynced = [];
  }
  syncDataAsync(): Promise<void> {
    try {
      this.syncData();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
  sync(): void {
    this.syncData();
  }
  truncate(length: number): void {
    const f = this.#state();
    assert(length >= 0, "truncate length must be non-negative");
    if (length < f.length) {
      f.data.fill(0, length, f.length);
      f.durable.fill(0, length, Math.max(length, f.durableLength));
      f.unsynced = f.unsynced
        .filter(([p]) => p < length)
        .map(([p, b]) => [p, b.subarray(0, Math.min(b.length, length - p))]);
    } else {
      f.data = grow(f.data, length);
      f.durable = grow(f.durable, length);
    }
    f.length = length;
    f.durableLength = length;
  }
  size(): number {
    return this.#state().length;
  }
  close(): void {
    this.#closed = true;
  }
}

/** Builds the file system a flush Worker uses: the real one, with the plan's faults if any. */
export function fsFromPlan(plan: FaultPlan | undefined): StoreFs {
  return plan && plan.rules.length > 0 ? new FaultyFs(denoFs, plan) : denoFs;
}
