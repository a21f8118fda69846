/**
 * Consume queues: one per (topic, queueId), fixed 20-byte units (reference §12.3), built by the
 * dispatcher from the commit log, so they can always be rebuilt from it.
 *
 * ```text
 *  off  size  unit field
 *    0     8  commit-log offset (i64)
 *    8     4  record size (i32)
 *   12     8  tags code (i64): tags hash, or delivery time for SCHEDULE_TOPIC_XXXX
 * ```
 *
 * Unit n is queue offset n. Files hold `unitsPerFile` units and are named by the byte offset of
 * their first unit (20 digits). New units collect in a small per-queue buffer that is written
 * with one positional write when it fills or at the next checkpoint; reads of units not yet
 * written are served from it.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { assert, assertOffset } from "./_assert.ts";
import type { StoreFile, StoreFs } from "./_fs.ts";
import { getU64, setU64 } from "./_record.ts";
import { listSegmentFiles, segmentName } from "./segment.ts";

const logger = getLogger(["denomq", "store"]);

/** Bytes of one consume-queue unit. */
export const CQ_UNIT_BYTES = 20;

/**
 * Size of a blank unit, which stands for no record: RocketMQ's `fillPreBlank` writes them before
 * the first unit of a queue that starts mid-file, so every file is a valid prefix of units.
 * Readers skip them; the minimum offset never points at one.
 */
export const BLANK_UNIT_SIZE = 0x7FFFFFFF;

/**
 * Most units a queue buffers before writing them (80 KiB). The buffer starts at 64 units and
 * doubles, so idle queues cost little; the store-wide {@linkcode ConsumeQueueStats} cap bounds
 * the sum over all queues.
 */
export const pendingUnitsMax = 4096;
const pendingUnitsInitial = 64;

/** Bytes buffered by all queues together; shared so one queue can trigger a flush of all. */
export interface ConsumeQueueStats {
  pendingBytes: number;
}

/** One unit, decoded. */
export interface ConsumeQueueUnit {
  commitLogOffset: number;
  size: number;
  tagsCode: number;
}

/** One consume queue. */
export class ConsumeQueue {
  readonly topic: string;
  readonly queueId: number;
  readonly dir: string;
  readonly unitsPerFile: number;
  #fs: StoreFs;
  #stats: ConsumeQueueStats;
  /** Open handles by file index (unit index / unitsPerFile). */
  #files = new Map<number, StoreFile>();
  /** Indexes of files that exist, ascending. */
  #fileIndexes: number[] = [];
  #dirtyFiles = new Set<number>();
  #min = 0;
  #max = 0;
  #pending = new Uint8Array(pendingUnitsInitial * CQ_UNIT_BYTES);
  #pendingView = new DataView(this.#pending.buffer);
  /** Queue offset of the first buffered unit; units below it are in files. */
  #pendingStart = 0;
  #scratch = new Uint8Array(CQ_UNIT_BYTES);
  #scratchView = new DataView(this.#scratch.buffer);

  constructor(
    fs: StoreFs,
    rootDir: string,
    topic: string,
    queueId: number,
    unitsPerFile: number,
    stats: ConsumeQueueStats,
  ) {
    this.#fs = fs;
    this.topic = topic;
    this.queueId = queueId;
    this.dir = `${rootDir}/${topic}/${queueId}`;
    this.unitsPerFile = unitsPerFile;
    this.#stats = stats;
  }

  /** First readable queue offset. */
  get minOffset(): number {
    return this.#min;
  }
  /** Next queue offset to be written (exclusive). */
  get maxOffset(): number {
    return this.#max;
  }
  get pendingUnits(): number {
    return this.#max - this.#pendingStart;
  }

  #fileName(fileIndex: number): string {
    return `${this.dir}/${segmentName(fileIndex * this.unitsPerFile * CQ_UNIT_BYTES)}`;
  }

  #file(fileIndex: number, create: boolean): StoreFile | undefined {
    let file = this.#files.get(fileIndex);
    if (file) return file;
    const exists = this.#fileIndexes.includes(fileIndex);
    if (!exists && !create) return undefined;
    if (!exists) this.#fs.mkdir(this.dir);
    file = this.#fs.open(this.#fileName(fileIndex), { create: true });
    if (!exists) {
      // Sized like RocketMQ's files; sparse, so creating one costs no writes.
      file.truncate(this.unitsPerFile * CQ_UNIT_BYTES);
      this.#fileIndexes.push(fileIndex);
      this.#fileIndexes.sort((a, b) => a - b);
    }
    this.#files.set(fileIndex, file);
    return file;
  }

  /** Adopts the files on disk without trusting their content; see {@linkcode recover}. */
  load(): void {
    const bytesPerFile = this.unitsPerFile * CQ_UNIT_BYTES;
    for (const f of listSegmentFiles(this.#fs, this.dir, bytesPerFile)) {
      this.#fileIndexes.push(f.baseOffset / bytesPerFile);
    }
    if (this.#fileIndexes.length > 0) {
      this.#min = this.#fileIndexes[0] * this.unitsPerFile;
      this.#max = this.#min;
      this.#pendingStart = this.#max;
    }
  }

  /** Reads one unit from the files (not the buffer); size 0 means none. */
  #fileUnit(queueOffset: number): ConsumeQueueUnit {
    const fileIndex = Math.floor(queueOffset / this.unitsPerFile);
    const file = this.#file(fileIndex, false);
    this.#scratch.fill(0);
    if (file) file.readAt(this.#scratch, (queueOffset % this.unitsPerFile) * CQ_UNIT_BYTES);
    return {
      commitLogOffset: getU64(this.#scratchView, 0),
      size: this.#scratchView.getInt32(8),
      tagsCode: getU64(this.#scratchView, 12),
    };
  }

  /**
   * Finds the valid units after a restart: a unit counts when its size is positive and its
   * commit-log offset is below `validBelow` (the checkpoint: units past it are re-dispatched), and
   * `verify` accepts the last one. Units past the valid end are cut off, files past it deleted.
   */
  recover(validBelow: number, verify: (queueOffset: number, unit: ConsumeQueueUnit) => boolean): void {
    const valid = (q: number) => {
      const u = this.#fileUnit(q);
      return u.size > 0 && u.commitLogOffset < validBelow;
    };
    while (this.#fileIndexes.length > 0) {
      const lastIndex = this.#fileIndexes.at(-1)!;
      const first = lastIndex * this.unitsPerFile;
      if (!valid(first)) {
        this.#deleteFile(lastIndex);
        continue;
      }
      // Binary search for the end of the valid prefix of this file.
      let lo = first;
      let hi = first + this.unitsPerFile;
      while (lo + 1 < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (valid(mid)) lo = mid;
        else hi = mid;
      }
      let end = valid(lo) ? lo + 1 : lo;
      // A torn unit can look valid; walk back until the last unit verifies against the commit log.
      let steps = 0;
      while (end > first && steps < 4096 && !verify(end - 1, this.#fileUnit(end - 1))) {
        end--;
        steps++;
      }
      this.#max = Math.max(end, this.#min);
      break;
    }
    if (this.#fileIndexes.length === 0) this.#max = this.#min;
    this.#cutFileTail(this.#max);
    this.#pendingStart = this.#max;
  }

  /** Zeroes units from `queueOffset` to the end of its file (sparse: truncate down and back up). */
  #cutFileTail(queueOffset: number): void {
    const fileIndex = Math.floor(queueOffset / this.unitsPerFile);
    for (const later of this.#fileIndexes.filter((i) => i > fileIndex)) this.#deleteFile(later);
    const file = this.#file(fileIndex, false);
    if (!file) return;
    file.truncate((queueOffset % this.unitsPerFile) * CQ_UNIT_BYTES);
    file.truncate(this.unitsPerFile * CQ_UNIT_BYTES);
    this.#dirtyFiles.add(fileIndex);
  }

  #deleteFile(fileIndex: number): void {
    const file = this.#files.get(fileIndex);
    file?.close();
    this.#files.delete(fileIndex);
    this.#dirtyFiles.delete(fileIndex);
    this.#fileIndexes = this.#fileIndexes.filter((i) => i !== fileIndex);
    try {
      this.#fs.remove(this.#fileName(fileIndex));
    } catch (error) {
      logger.error("Cannot delete consume-queue file {path}: {error}", {
        path: this.#fileName(fileIndex),
        error: String(error),
      });
    }
  }

  /**
   * Appends the unit for `queueOffset`. In normal operation that is always {@linkcode maxOffset};
   * a re-dispatch during recovery may start an empty queue further on, overwrite a tail, or (if
   * files were lost) leave a gap of empty units, which readers skip.
   */
  put(queueOffset: number, commitLogOffset: number, size: number, tagsCode: number): void {
    if (queueOffset !== this.#max) this.#reposition(queueOffset);
    let at = (this.#max - this.#pendingStart) * CQ_UNIT_BYTES;
    if (at + CQ_UNIT_BYTES > this.#pending.length) {
      if (this.#pending.length >= pendingUnitsMax * CQ_UNIT_BYTES && this.#tryFlushPending()) {
        at = 0;
      } else {
        // Below the cap, or the write failed (disk full): keep the units in memory rather than
        // lose one, which would hand its queue offset to the next record. Puts are refused
        // soon after (the commit log hits the same disk), which bounds the growth.
        const grown = new Uint8Array(this.#pending.length * 2);
        grown.set(this.#pending.subarray(0, at));
        this.#pending = grown;
        this.#pendingView = new DataView(grown.buffer);
      }
    }
    const view = this.#pendingView;
    setU64(view, at, commitLogOffset);
    view.setInt32(at + 8, size);
    setU64(view, at + 12, tagsCode);
    this.#max++;
    this.#stats.pendingBytes += CQ_UNIT_BYTES;
  }

  #reposition(queueOffset: number): void {
    assertOffset(queueOffset, "queue offset");
    if (this.#max === this.#min && this.pendingUnits === 0 && queueOffset > this.#max) {
      const fileBase = Math.floor(queueOffset / this.unitsPerFile) * this.unitsPerFile;
      const fileExists = this.#fileIndexes.includes(fileBase / this.unitsPerFile);
      this.#min = this.#max = this.#pendingStart = fileExists ? Math.max(this.#max, fileBase) : fileBase;
      while (this.#max < queueOffset) this.put(this.#max, 0, BLANK_UNIT_SIZE, 0);
      this.#min = queueOffset;
      return;
    }
    if (queueOffset < this.#max) {
      logger.warn("Consume queue {topic}/{queueId} rewinds from {max} to {queueOffset}", {
        topic: this.topic,
        queueId: this.queueId,
        max: this.#max,
        queueOffset,
      });
      this.truncate(queueOffset);
      return;
    }
    logger.error("Consume queue {topic}/{queueId} has no units for [{max}, {queueOffset}): the records are lost", {
      topic: this.topic,
      queueId: this.queueId,
      max: this.#max,
      queueOffset,
    });
    while (this.#max < queueOffset) this.put(this.#max, 0, BLANK_UNIT_SIZE, 0);
  }

  /** Cuts the queue back to `queueOffset` units. */
  truncate(queueOffset: number): void {
    if (queueOffset >= this.#max) return;
    if (queueOffset >= this.#pendingStart) {
      this.#stats.pendingBytes -= (this.#max - queueOffset) * CQ_UNIT_BYTES;
      this.#max = queueOffset;
      return;
    }
    this.#stats.pendingBytes -= this.pendingUnits * CQ_UNIT_BYTES;
    this.#cutFileTail(queueOffset);
    if (queueOffset < this.#min) this.#min = queueOffset;
    this.#max = this.#pendingStart = queueOffset;
  }

  #tryFlushPending(): boolean {
    try {
      this.flushPending();
      return true;
    } catch (error) {
      logger.error("Cannot write consume queue {topic}/{queueId}: {error}; its units stay in memory", {
        topic: this.topic,
        queueId: this.queueId,
        error: String(error),
      });
      return false;
    }
  }

  /** Writes the buffered units to their files (synchronous positional writes). */
  flushPending(): void {
    let queueOffset = this.#pendingStart;
    let at = 0;
    while (queueOffset < this.#max) {
      const fileIndex = Math.floor(queueOffset / this.unitsPerFile);
      const units = Math.min(this.#max - queueOffset, (fileIndex + 1) * this.unitsPerFile - queueOffset);
      const file = this.#file(fileIndex, true)!;
      const bytes = this.#pending.subarray(at, at + units * CQ_UNIT_BYTES);
      let done = 0;
      const position = (queueOffset % this.unitsPerFile) * CQ_UNIT_BYTES;
      while (done < bytes.length) {
        const n = file.writeAt(bytes.subarray(done), position + done);
        assert(n > 0, "a consume-queue write must make progress");
        done += n;
      }
      this.#dirtyFiles.add(fileIndex);
      queueOffset += units;
      at += units * CQ_UNIT_BYTES;
    }
    this.#stats.pendingBytes -= at;
    this.#pendingStart = this.#max;
  }

  /** fdatasyncs files written since the last call, off the isolate's thread. */
  async syncFiles(): Promise<void> {
    const dirty = [...this.#dirtyFiles];
    this.#dirtyFiles.clear();
    for (const fileIndex of dirty) {
      const file = this.#file(fileIndex, false);
      if (file) await file.syncDataAsync();
    }
  }

  /**
   * Copies up to `count` units from `queueOffset` into `target` (20 bytes each) and returns how many.
   * Units in a missing file read as empty (size 0).
   */
  readUnits(queueOffset: number, count: number, target: Uint8Array): number {
    const n = Math.max(0, Math.min(count, this.#max - queueOffset, Math.floor(target.length / CQ_UNIT_BYTES)));
    let q = queueOffset;
    let at = 0;
    const end = queueOffset + n;
    while (q < end) {
      if (q >= this.#pendingStart) {
        const from = (q - this.#pendingStart) * CQ_UNIT_BYTES;
        const bytes = (end - q) * CQ_UNIT_BYTES;
        target.set(this.#pending.subarray(from, from + bytes), at);
        break;
      }
      const fileIndex = Math.floor(q / this.unitsPerFile);
      const units = Math.min(end, this.#pendingStart, (fileIndex + 1) * this.unitsPerFile) - q;
      const slice = target.subarray(at, at + units * CQ_UNIT_BYTES);
      const file = this.#file(fileIndex, false);
      const read = file ? file.readAt(slice, (q % this.unitsPerFile) * CQ_UNIT_BYTES) : 0;
      if (read < slice.length) slice.fill(0, read);
      q += units;
      at += units * CQ_UNIT_BYTES;
    }
    return n;
  }

  /** One unit, or undefined outside [min, max). */
  unit(queueOffset: number): ConsumeQueueUnit | undefined {
    if (queueOffset < this.#min || queueOffset >= this.#max) return undefined;
    if (queueOffset >= this.#pendingStart) {
      const at = (queueOffset - this.#pendingStart) * CQ_UNIT_BYTES;
      const view = this.#pendingView;
      return { commitLogOffset: getU64(view, at), size: view.getInt32(at + 8), tagsCode: getU64(view, at + 12) };
    }
    return this.#fileUnit(queueOffset);
  }

  /** True when the file holding `queueOffset` exists (else a read reports OFFSET_FOUND_NULL). */
  hasFileFor(queueOffset: number): boolean {
    if (queueOffset >= this.#pendingStart) return true;
    return this.#fileIndexes.includes(Math.floor(queueOffset / this.unitsPerFile));
  }

  /** First queue offset of the file after the one holding `queueOffset`. */
  nextFileOffset(queueOffset: number): number {
    return (Math.floor(queueOffset / this.unitsPerFile) + 1) * this.unitsPerFile;
  }

  /**
   * Retention: deletes files whose units all point below `commitLogMin`, then
   * {@linkcode correctMinOffset}. Returns the deleted file count.
   */
  deleteBelow(commitLogMin: number): number {
    let deleted = 0;
    while (this.#fileIndexes.length > 1) {
      const fileIndex = this.#fileIndexes[0];
      if ((fileIndex + 1) * this.unitsPerFile > this.#pendingStart) break;
      const lastUnit = this.#fileUnit((fileIndex + 1) * this.unitsPerFile - 1);
      if (
        lastUnit.size === 0 ||
        (lastUnit.size !== BLANK_UNIT_SIZE && lastUnit.commitLogOffset + lastUnit.size > commitLogMin)
      ) break;
      this.#deleteFile(fileIndex);
      deleted++;
    }
    this.correctMinOffset(commitLogMin);
    return deleted;
  }

  /**
   * Moves the minimum to the first unit whose record is at or above `commitLogMin`, skipping
   * blank units (RocketMQ's `correctMinOffset`).
   */
  correctMinOffset(commitLogMin: number): void {
    if (this.#fileIndexes.length > 0) {
      this.#min = Math.max(this.#min, Math.min(this.#fileIndexes[0] * this.unitsPerFile, this.#max));
    }
    let lo = this.#min;
    let hi = this.#max;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const u = this.unit(mid)!;
      if (u.size > 0 && u.size !== BLANK_UNIT_SIZE && u.commitLogOffset >= commitLogMin) hi = mid;
      else lo = mid + 1;
    }
    this.#min = lo;
  }

  /** Closes handles. */
  close(): void {
    for (const file of this.#files.values()) file.close();
    this.#files.clear();
  }

  /** Closes and deletes every file of the queue. */
  destroy(): void {
    this.#stats.pendingBytes -= this.pendingUnits * CQ_UNIT_BYTES;
    this.close();
    try {
      this.#fs.remove(this.dir, { recursive: true });
    } catch (error) {
      logger.error("Cannot delete consume queue {dir}: {error}", { dir: this.dir, error: String(error) });
    }
  }
}
