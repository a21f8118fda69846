/**
 * Fixed-size files named by the offset of their first byte (20 digits, zero-padded), the naming
 * RocketMQ uses for commit-log segments and consume-queue files (reference §12.1-12.3).
 *
 * A {@linkcode Segment} is one commit-log file as the isolate sees it: its read handle and its
 * background zero-fill. Writes do not go through it; they go through the flusher.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { assert, assertOffset } from "./_assert.ts";
import type { PreallocateControl, StoreFile, StoreFs } from "./_fs.ts";

const logger = getLogger(["denomq", "store"]);

/** Digits of a segment file name. */
export const SEGMENT_NAME_DIGITS = 20;

/** `00000000001073741824` for 1073741824. */
export function segmentName(baseOffset: number): string {
  assertOffset(baseOffset, "segment base offset");
  return String(baseOffset).padStart(SEGMENT_NAME_DIGITS, "0");
}

/** The base offset a file name encodes, or undefined when it is not a segment name. */
export function parseSegmentName(name: string): number | undefined {
  if (name.length !== SEGMENT_NAME_DIGITS || !/^[0-9]+$/.test(name)) return undefined;
  const value = Number(name);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A file in a segment directory. */
export interface SegmentFile {
  baseOffset: number;
  path: string;
}

/**
 * Segment files of `dir`, sorted by base offset. Other names are logged and ignored; so are files
 * whose base offset is not a multiple of `segmentBytes` (they cannot be ours).
 */
export function listSegmentFiles(fs: StoreFs, dir: string, segmentBytes: number): SegmentFile[] {
  const files: SegmentFile[] = [];
  for (const entry of fs.readDir(dir)) {
    if (!entry.isFile) continue;
    const baseOffset = parseSegmentName(entry.name);
    if (baseOffset === undefined || baseOffset % segmentBytes !== 0) {
      logger.warn("Ignoring {name} in {dir}: not a segment of {segmentBytes} bytes", {
        name: entry.name,
        dir,
        segmentBytes,
      });
      continue;
    }
    files.push({ baseOffset, path: `${dir}/${entry.name}` });
  }
  return files.sort((a, b) => a.baseOffset - b.baseOffset);
}

/** One commit-log segment, seen from the isolate. */
export class Segment {
  readonly baseOffset: number;
  readonly capacity: number;
  readonly path: string;
  #fs: StoreFs;
  #file: StoreFile | undefined;
  #prefill: { control: PreallocateControl; done: Promise<void>; finished: boolean } | undefined;
  /** Clock time when the segment stopped taking appends (or the file's mtime when loaded). */
  sealedAtMs = -1;

  constructor(fs: StoreFs, dir: string, baseOffset: number, capacity: number) {
    assert(baseOffset % capacity === 0, `segment base ${baseOffset} must be a multiple of ${capacity}`);
    this.#fs = fs;
    this.baseOffset = baseOffset;
    this.capacity = capacity;
    this.path = `${dir}/${segmentName(baseOffset)}`;
  }

  get endOffset(): number {
    return this.baseOffset + this.capacity;
  }

  /** The isolate's handle (reads, recovery repairs), opened on first use. */
  file(): StoreFile {
    this.#file ??= this.#fs.open(this.path, { create: true });
    return this.#file;
  }

  /** Reads `target.length` bytes at commit-log offset `commitLogOffset`; past the file's end reads zeros. */
  read(target: Uint8Array, commitLogOffset: number): void {
    const n = this.file().readAt(target, commitLogOffset - this.baseOffset);
    if (n < target.length) target.fill(0, n);
  }

  /**
   * Starts zero-filling the file to its capacity in the background. A failure (such as ENOSPC) is
   * logged and leaves a shorter file: writes past its end still work, fdatasync just costs more.
   */
  startPrefill(pace?: (sliceBytes: number) => Promise<void>): void {
    if (this.#prefill) return;
    const control: PreallocateControl = { stopped: false, pace };
    const prefill = { control, done: Promise.resolve(), finished: false };
    prefill.done = this.#fs.preallocate(this.path, this.capacity, control).then(
      () => {
        prefill.finished = true;
      },
      (error) => {
        prefill.finished = true;
        logger.warn("Cannot pre-allocate {path}: {error}", { path: this.path, error: String(error) });
      },
    );
    this.#prefill = prefill;
  }

  /** Zero-fills synchronously enough for a caller that must not append before it is done. */
  async prefill(): Promise<void> {
    this.startPrefill();
    await this.#prefill!.done;
  }

  /** True while the background zero-fill may still write to the file. */
  get prefilling(): boolean {
    return this.#prefill !== undefined && !this.#prefill.finished;
  }

  /**
   * Stops the zero-fill and waits for its last write, so no zero lands on data the flusher writes
   * afterwards. Must complete before the first data write to this segment.
   */
  async stopPrefill(): Promise<void> {
    if (!this.#prefill) return;
    this.#prefill.control.stopped = true;
    await this.#prefill.done;
  }

  /** Closes the isolate's handle (the flusher has its own). */
  close(): void {
    try {
      this.#file?.close();
    } catch (error) {
      logger.warn("Cannot close {path}: {error}", { path: this.path, error: String(error) });
    }
    this.#file = undefined;
  }
}
