/**
 * The index: lookup by message key and UNIQ_KEY (client msgId), RocketMQ's `IndexFile` layout
 * (reference §12.4), rebuilt from the commit log when missing.
 *
 * ```text
 *  header, 40 bytes            slot table             entries, 20 bytes each
 *   0  beginTimestamp  i64      slotCount × i32        0  keyHash            i32
 *   8  endTimestamp    i64      (latest entry index    4  commit-log offset  i64
 *  16  beginPhyOffset  i64       of the slot, 0=none)  12  seconds since begin i32
 *  24  endPhyOffset    i64                             16  previous entry of the slot i32
 *  32  hashSlotCount   i32
 *  36  indexCount      i32  (entries + 1: entry 0 is never used, so 0 can mean "none")
 * ```
 *
 * Key = `topic + "#" + key`, hash = |Java hashCode| (0 on overflow), slot = hash % slotCount.
 * Files are named by creation time `yyyyMMddHHmmssSSS` and sized for `entryCountMax` entries
 * (sparse). The file being filled keeps its slot table in memory (20 MB at the defaults) and
 * writes dirty slot pages and new entries at checkpoints; full files are read with positional
 * reads.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { assert } from "./_assert.ts";
import type { StoreFile, StoreFs } from "./_fs.ts";
import { getU64, setU64 } from "./_record.ts";

const logger = getLogger(["denomq", "store"]);

export const INDEX_HEADER_BYTES = 40;
export const INDEX_SLOT_BYTES = 4;
export const INDEX_ENTRY_BYTES = 20;

/**
 * Entries buffered before a write (1.25 MiB). Bounds the memory of a burst between checkpoints;
 * when it fills, the entries are written at once.
 */
const pendingEntriesMax = 65536;
/** Slots per 4 KiB page of the slot table (dirty pages are written, not single slots). */
const slotsPerPage = 1024;
/**
 * Entries followed along one slot's chain per file during a query. With 5 M slots chains are
 * short; the cap stops a pathological chain (or a corrupt loop) from stalling the isolate.
 */
export const chainStepsMax = 100_000;

/** `|hashCode(topic + "#" + key)|` without building the string. */
export function indexKeyHash(topic: string, key: string): number {
  let h = 0;
  for (let i = 0; i < topic.length; i++) h = (Math.imul(31, h) + topic.charCodeAt(i)) | 0;
  h = (Math.imul(31, h) + 35) | 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(31, h) + key.charCodeAt(i)) | 0;
  const abs = Math.abs(h);
  return abs < 0 || abs > 0x7FFFFFFF ? 0 : abs;
}

/** `yyyyMMddHHmmssSSS` in local time, like RocketMQ's `UtilAll.timeMillisToHumanString`. */
export function indexFileName(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}` +
    `${p(d.getSeconds())}${p(d.getMilliseconds(), 3)}`;
}

/** One index file. */
export class IndexFile {
  readonly name: string;
  readonly path: string;
  readonly slotCount: number;
  readonly entryCountMax: number;
  beginTimestamp = 0;
  endTimestamp = 0;
  beginPhyOffset = 0;
  endPhyOffset = 0;
  hashSlotCount = 0;
  indexCount = 1;
  #file: StoreFile;
  /** The slot table in its on-disk byte order, in memory while the file is being filled. */
  #slots: Uint8Array | undefined;
  #slotView: DataView | undefined;
  #dirtyPages = new Set<number>();
  #pending: Uint8Array | undefined;
  #pendingView: DataView | undefined;
  /** Entries below this index are in the file. */
  #flushedCount = 1;
  #headerDirty = false;
  #dirtySinceSync = false;
  #scratch = new Uint8Array(INDEX_ENTRY_BYTES);
  #scratchView = new DataView(this.#scratch.buffer);

  constructor(fs: StoreFs, dir: string, name: string, slotCount: number, entryCountMax: number, create: boolean) {
    this.name = name;
    this.path = `${dir}/${name}`;
    this.slotCount = slotCount;
    this.entryCountMax = entryCountMax;
    this.#file = fs.open(this.path, { create });
    if (create) {
      this.#file.truncate(this.fileBytes);
      this.#setSlots(new Uint8Array(slotCount * INDEX_SLOT_BYTES));
      this.#headerDirty = true;
    } else {
      this.#readHeader();
    }
  }

  #setSlots(slots: Uint8Array | undefined): void {
    this.#slots = slots;
    this.#slotView = slots ? new DataView(slots.buffer, slots.byteOffset, slots.byteLength) : undefined;
  }

  get fileBytes(): number {
    return INDEX_HEADER_BYTES + this.slotCount * INDEX_SLOT_BYTES + this.entryCountMax * INDEX_ENTRY_BYTES;
  }
  get full(): boolean {
    return this.indexCount >= this.entryCountMax;
  }
  get active(): boolean {
    return this.#slots !== undefined;
  }

  #readHeader(): void {
    const header = new Uint8Array(INDEX_HEADER_BYTES);
    this.#file.readAt(header, 0);
    const view = new DataView(header.buffer);
    this.beginTimestamp = getU64(view, 0);
    this.endTimestamp = getU64(view, 8);
    this.beginPhyOffset = getU64(view, 16);
    this.endPhyOffset = getU64(view, 24);
    this.hashSlotCount = view.getInt32(32);
    this.indexCount = Math.max(1, view.getInt32(36));
    this.#flushedCount = this.indexCount;
  }

  #headerBytes(): Uint8Array {
    const header = new Uint8Array(INDEX_HEADER_BYTES);
    const view = new DataView(header.buffer);
    setU64(view, 0, this.beginTimestamp);
    setU64(view, 8, this.endTimestamp);
    setU64(view, 16, this.beginPhyOffset);
    setU64(view, 24, this.endPhyOffset);
    view.setInt32(32, this.hashSlotCount);
    view.setInt32(36, this.indexCount);
    return header;
  }

  #entryPosition(index: number): number {
    return INDEX_HEADER_BYTES + this.slotCount * INDEX_SLOT_BYTES + index * INDEX_ENTRY_BYTES;
  }

  /** Adds an entry. The file must be active and not full. */
  put(keyHash: number, commitLogOffset: number, storeTimestamp: number): void {
    const slots = this.#slotView;
    assert(slots !== undefined && !this.full, "index entries go to an active file with room");
    if (this.indexCount <= 1) {
      this.beginTimestamp = storeTimestamp;
      this.beginPhyOffset = commitLogOffset;
    }
    const slot = keyHash % this.slotCount;
    let previous = slots.getInt32(slot * INDEX_SLOT_BYTES);
    if (previous <= 0 || previous >= this.indexCount) previous = 0;
    let seconds = Math.floor((storeTimestamp - this.beginTimestamp) / 1000);
    seconds = seconds < 0 ? 0 : seconds > 0x7FFFFFFF ? 0x7FFFFFFF : seconds;
    if (!this.#pending) {
      this.#pending = new Uint8Array(pendingEntriesMax * INDEX_ENTRY_BYTES);
      this.#pendingView = new DataView(this.#pending.buffer);
    }
    if (this.indexCount - this.#flushedCount >= pendingEntriesMax) this.#writePending();
    const at = (this.indexCount - this.#flushedCount) * INDEX_ENTRY_BYTES;
    const view = this.#pendingView!;
    view.setInt32(at, keyHash);
    setU64(view, at + 4, commitLogOffset);
    view.setInt32(at + 12, seconds);
    view.setInt32(at + 16, previous);
    slots.setInt32(slot * INDEX_SLOT_BYTES, this.indexCount);
    this.#dirtyPages.add(Math.floor(slot / slotsPerPage));
    if (previous === 0) this.hashSlotCount++;
    this.indexCount++;
    this.endPhyOffset = commitLogOffset;
    this.endTimestamp = storeTimestamp;
    this.#headerDirty = true;
  }

  #writeAll(bytes: Uint8Array, position: number): void {
    let done = 0;
    while (done < bytes.length) {
      const n = this.#file.writeAt(bytes.subarray(done), position + done);
      assert(n > 0, "an index write must make progress");
      done += n;
    }
    this.#dirtySinceSync = true;
  }

  #writePending(): void {
    const count = this.indexCount - this.#flushedCount;
    if (count > 0) {
      this.#writeAll(this.#pending!.subarray(0, count * INDEX_ENTRY_BYTES), this.#entryPosition(this.#flushedCount));
      this.#flushedCount = this.indexCount;
    }
  }

  /** Writes new entries, dirty slot pages (coalesced) and the header. */
  flush(): void {
    if (this.#pending) this.#writePending();
    if (this.#slots && this.#dirtyPages.size > 0) {
      const pages = [...this.#dirtyPages].sort((a, b) => a - b);
      this.#dirtyPages.clear();
      for (let i = 0; i < pages.length;) {
        let j = i;
        while (j + 1 < pages.length && pages[j + 1] === pages[j] + 1) j++;
        const from = pages[i] * slotsPerPage;
        const to = Math.min(this.slotCount, (pages[j] + 1) * slotsPerPage);
        this.#writeAll(
          this.#slots.subarray(from * INDEX_SLOT_BYTES, to * INDEX_SLOT_BYTES),
          INDEX_HEADER_BYTES + from * INDEX_SLOT_BYTES,
        );
        i = j + 1;
      }
    }
    if (this.#headerDirty) {
      this.#writeAll(this.#headerBytes(), 0);
      this.#headerDirty = false;
    }
  }

  /** fdatasync if anything was written since the last call. */
  async sync(): Promise<void> {
    if (!this.#dirtySinceSync) return;
    this.#dirtySinceSync = false;
    await this.#file.syncDataAsync();
  }

  /** Writes everything and drops the in-memory slot table: the file takes no more entries. */
  seal(): void {
    this.flush();
    this.#setSlots(undefined);
    this.#pending = undefined;
    this.#pendingView = undefined;
  }

  #slotValue(slot: number): number {
    if (this.#slotView) return this.#slotView.getInt32(slot * INDEX_SLOT_BYTES);
    const bytes = new Uint8Array(INDEX_SLOT_BYTES);
    this.#file.readAt(bytes, INDEX_HEADER_BYTES + slot * INDEX_SLOT_BYTES);
    return new DataView(bytes.buffer).getInt32(0);
  }

  #entry(index: number): { keyHash: number; commitLogOffset: number; seconds: number; previous: number } {
    let view: DataView;
    let at: number;
    if (index >= this.#flushedCount && this.#pending) {
      view = this.#pendingView!;
      at = (index - this.#flushedCount) * INDEX_ENTRY_BYTES;
    } else {
      this.#scratch.fill(0);
      this.#file.readAt(this.#scratch, this.#entryPosition(index));
      view = this.#scratchView;
      at = 0;
    }
    return {
      keyHash: view.getInt32(at),
      commitLogOffset: getU64(view, at + 4),
      seconds: view.getInt32(at + 12),
      previous: view.getInt32(at + 16),
    };
  }

  /**
   * Commit-log offsets of entries with `keyHash` stored within [beginMs, endMs], newest first,
   * appended to `out` until it holds `maxCount`.
   */
  select(keyHash: number, beginMs: number, endMs: number, maxCount: number, out: number[]): void {
    let index = this.#slotValue(keyHash % this.slotCount);
    for (let steps = 0; steps < chainStepsMax && out.length < maxCount; steps++) {
      if (index <= 0 || index >= this.indexCount) return;
      const entry = this.#entry(index);
      const time = this.beginTimestamp + entry.seconds * 1000;
      if (entry.keyHash === keyHash && time >= beginMs && time <= endMs) out.push(entry.commitLogOffset);
      if (time < beginMs || entry.previous >= index) return;
      index = entry.previous;
    }
  }

  /** True when the file's time range overlaps [beginMs, endMs] (RocketMQ's `isTimeMatched`). */
  overlaps(beginMs: number, endMs: number): boolean {
    // Entries store whole seconds since the begin time, so the end is widened by a second.
    return beginMs <= this.endTimestamp + 1000 && endMs >= this.beginTimestamp;
  }

  /**
   * After a crash: keeps the first `indexCount` entries (what the checkpoint recorded), rebuilds
   * the slot table and header from them, and makes the file active again.
   */
  recover(indexCount: number): void {
    this.indexCount = Math.max(1, Math.min(indexCount, this.entryCountMax));
    this.#flushedCount = this.indexCount;
    const slots = new Uint8Array(this.slotCount * INDEX_SLOT_BYTES);
    const slotView = new DataView(slots.buffer);
    this.hashSlotCount = 0;
    const batchEntries = 65536;
    const batch = new Uint8Array(batchEntries * INDEX_ENTRY_BYTES);
    const view = new DataView(batch.buffer);
    let lastOffset = this.beginPhyOffset;
    let lastSeconds = 0;
    for (let from = 1; from < this.indexCount; from += batchEntries) {
      const n = Math.min(batchEntries, this.indexCount - from);
      const bytes = batch.subarray(0, n * INDEX_ENTRY_BYTES);
      const read = this.#file.readAt(bytes, this.#entryPosition(from));
      if (read < bytes.length) bytes.fill(0, read);
      for (let i = 0; i < n; i++) {
        const at = i * INDEX_ENTRY_BYTES;
        const slot = view.getInt32(at) % this.slotCount;
        if (slot < 0) continue;
        if (slotView.getInt32(slot * INDEX_SLOT_BYTES) === 0) this.hashSlotCount++;
        slotView.setInt32(slot * INDEX_SLOT_BYTES, from + i);
        lastOffset = getU64(view, at + 4);
        lastSeconds = view.getInt32(at + 12);
      }
    }
    this.#setSlots(slots);
    if (this.indexCount > 1) {
      this.endPhyOffset = lastOffset;
      this.endTimestamp = this.beginTimestamp + lastSeconds * 1000;
    } else {
      this.beginTimestamp =
        this.endTimestamp =
        this.beginPhyOffset =
        this.endPhyOffset =
          0;
    }
    for (let page = 0; page * slotsPerPage < this.slotCount; page++) this.#dirtyPages.add(page);
    this.#headerDirty = true;
    this.flush();
  }

  /** Loads the slot table of a cleanly closed file so it takes entries again. */
  activate(): void {
    if (this.#slots) return;
    const bytes = new Uint8Array(this.slotCount * INDEX_SLOT_BYTES);
    const read = this.#file.readAt(bytes, INDEX_HEADER_BYTES);
    if (read < bytes.length) bytes.fill(0, read);
    this.#setSlots(bytes);
  }

  close(): void {
    try {
      this.#file.close();
    } catch (error) {
      logger.warn("Cannot close {path}: {error}", { path: this.path, error: String(error) });
    }
  }
}

/** Where the index stood at a checkpoint. */
export interface IndexCheckpoint {
  fileName: string;
  indexCount: number;
}

/** All index files: the full ones and the one being filled. */
export class IndexService {
  readonly dir: string;
  readonly slotCount: number;
  readonly entryCountMax: number;
  #fs: StoreFs;
  #now: () => number;
  /** Oldest first; the last one is active. */
  #files: IndexFile[] = [];
  /** Full files not yet synced. */
  #unsynced = new Set<IndexFile>();

  constructor(fs: StoreFs, dir: string, slotCount: number, entryCountMax: number, now: () => number) {
    assert(slotCount > 0 && entryCountMax > 1, "index needs slots and room for entries");
    this.#fs = fs;
    this.dir = dir;
    this.slotCount = slotCount;
    this.entryCountMax = entryCountMax;
    this.#now = now;
  }

  /**
   * Opens the files on disk. With a checkpoint, files newer than the checkpointed one are deleted
   * and that one is cut back to the checkpointed count and rebuilt; without one, every file is
   * deleted (the whole log is re-indexed). `clean` skips the rebuild after a clean shutdown.
   */
  load(checkpoint: IndexCheckpoint | undefined, clean: boolean): void {
    this.#fs.mkdir(this.dir);
    const names = this.#fs.readDir(this.dir).filter((e) => e.isFile && /^[0-9]{17}$/.test(e.name)).map((e) => e.name)
      .sort();
    for (const name of names) {
      const keep = checkpoint !== undefined && name <= checkpoint.fileName;
      if (!keep) {
        logger.info("Deleting index file {name}: newer than the checkpoint, it is rebuilt from the commit log", {
          name,
        });
        this.#fs.remove(`${this.dir}/${name}`);
        continue;
      }
      this.#files.push(new IndexFile(this.#fs, this.dir, name, this.slotCount, this.entryCountMax, false));
    }
    const last = this.#files.at(-1);
    if (!last || !checkpoint) return;
    if (last.name === checkpoint.fileName && !clean) last.recover(checkpoint.indexCount);
    else if (!last.full) last.activate();
  }

  /** The file new entries go to, rolling when it is full. */
  #activeFile(): IndexFile {
    let last = this.#files.at(-1);
    if (last && !last.full && last.active) return last;
    if (last) {
      last.seal();
      this.#unsynced.add(last);
    }
    let ms = this.#now();
    let name = indexFileName(ms);
    while (last && name <= last.name) name = indexFileName(++ms);
    const file = new IndexFile(this.#fs, this.dir, name, this.slotCount, this.entryCountMax, true);
    if (last && last.endPhyOffset > 0) {
      file.beginPhyOffset = file.endPhyOffset = last.endPhyOffset;
      file.beginTimestamp = file.endTimestamp = last.endTimestamp;
    }
    this.#files.push(file);
    last = file;
    return last;
  }

  /** Indexes a record under each key. */
  put(topic: string, keys: readonly string[], commitLogOffset: number, storeTimestamp: number): void {
    for (const key of keys) {
      if (key.length === 0) continue;
      this.#activeFile().put(indexKeyHash(topic, key), commitLogOffset, storeTimestamp);
    }
  }

  /** Candidate commit-log offsets for `topic#key` (hash matches: callers check the key). */
  select(topic: string, key: string, maxCount: number, beginMs: number, endMs: number): number[] {
    const out: number[] = [];
    const hash = indexKeyHash(topic, key);
    for (let i = this.#files.length - 1; i >= 0 && out.length < maxCount; i--) {
      const file = this.#files[i];
      if (file.indexCount > 1 && file.overlaps(beginMs, endMs)) file.select(hash, beginMs, endMs, maxCount, out);
    }
    return out;
  }

  get lastUpdateTimestamp(): number {
    return this.#files.at(-1)?.endTimestamp ?? 0;
  }
  get lastUpdatePhyOffset(): number {
    return this.#files.at(-1)?.endPhyOffset ?? 0;
  }

  /** The point a checkpoint records; take it before {@linkcode flush}. */
  checkpoint(): IndexCheckpoint {
    const last = this.#files.at(-1);
    return last ? { fileName: last.name, indexCount: last.indexCount } : { fileName: "", indexCount: 0 };
  }

  /** Writes buffered entries and slots of the active file. */
  flush(): void {
    this.#files.at(-1)?.flush();
  }

  /** fdatasyncs what {@linkcode flush} and sealing wrote, off the isolate's thread. */
  async sync(): Promise<void> {
    const files = [...this.#unsynced];
    this.#unsynced.clear();
    const last = this.#files.at(-1);
    if (last) files.push(last);
    for (const f of files) await f.sync();
  }

  /** Retention: deletes full files whose entries all point below `commitLogMin`. */
  deleteBelow(commitLogMin: number): number {
    let deleted = 0;
    while (this.#files.length > 1 && this.#files[0].endPhyOffset < commitLogMin) {
      const file = this.#files.shift()!;
      this.#unsynced.delete(file);
      file.close();
      this.#fs.remove(file.path);
      logger.info("Deleted index file {name}", { name: file.name });
      deleted++;
    }
    return deleted;
  }

  get fileCount(): number {
    return this.#files.length;
  }

  close(): void {
    for (const f of this.#files) f.close();
    this.#files = [];
  }
}
