/**
 * The commit log: every record of every topic, appended to fixed-size segment files
 * (reference §12.2), with group commit and fail-closed error handling.
 *
 * Appends are encoded straight into bounded in-memory write chunks (SharedArrayBuffers). A flush
 * round hands everything appended since the previous round to the {@linkcode Flusher}; in
 * SYNC_FLUSH the round ends with an fdatasync, and every put it covers resolves together (group
 * commit). Up to two rounds are in flight, completing in order, so the next one is encoded while
 * the previous one is on the disk. Reads are served from the chunks for bytes the file system has
 * not been given yet, else from files.
 *
 * Offsets: `appendOffset` ≥ `writtenOffset` (handed to the file system) ≥ `syncedOffset`
 * (covered by fdatasync). A failed write or fdatasync fences the log: waiting puts fail, new puts
 * are refused, reads go on, and only a restart (which re-verifies the tail) lifts it. A write
 * failing with ENOSPC is the exception: nothing the page cache held was lost, so the round is
 * retried until space returns, refusing new puts meanwhile.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { assert, assertOffset } from "./_assert.ts";
import { errorCode, type StoreFs } from "./_fs.ts";
import { BLANK_HEADER_BYTES, writeBlank } from "./_record.ts";
import type { FlushCore, Flusher, FlushRange, FlushResult } from "./flush.ts";
import { Segment, type SegmentFile } from "./segment.ts";
import { type Clock, type PutMessageResult, PutMessageStatus } from "./store.ts";

const logger = getLogger(["denomq", "store"]);

/** Page size used by `flushCommitLogLeastPages`. */
export const PAGE_BYTES = 4096;

/**
 * Smallest write chunk. A round writes at most the bytes appended since the last one, so chunk
 * size does not bound a write; it bounds how often a chunk is sealed and recycled. 1 MiB keeps
 * that to a few hundred times a second at disk speed.
 */
const writeChunkBytesMin = 1024 * 1024;

/**
 * Puts waiting for room in the write buffer. The broker's lanes bound concurrent puts well below
 * this; past it a put is answered OS_PAGECACHE_BUSY at once instead of queueing.
 */
export const roomWaitersMax = 65536;

/**
 * Slowest zero-fill of the standby segment: an idle log still gets its next 1 GiB segment ready
 * in about 16 s.
 */
const prefillBytesPerSecMin = 64 * 1024 * 1024;
/** The standby's zero-fill runs this much faster than appends, so it is ready before the roll. */
const prefillAppendRateFactor = 1.25;

/**
 * Flush rounds in flight at once. With one, the disk idles while the isolate prepares the next
 * round and the flush Worker's reply crosses threads; with two, one round's records are encoded
 * while the previous one is written and synced. Measured here with 256 concurrent SYNC_FLUSH
 * puts: one round in flight spent a third of each round's time on the thread hand-off alone.
 */
const roundsInFlightMax = 2;

/**
 * Bytes appended since the last round submitted that start the next round at once, instead of
 * after the current microtask. When all producers wait on one round, they all put again together;
 * without this they would form one batch again and the disk would idle while it is encoded.
 * Starting a round every 128 KiB splits them so one part is encoded while the other is on the
 * disk. Measured here with 256 concurrent 1 KiB SYNC_FLUSH puts: about 1.4x the records per
 * second, for about 2.3x the fdatasyncs (still ~110 records each).
 */
const pipelineRoundBytesMin = 128 * 1024;

/**
 * ASYNC_FLUSH: a round that no put waits for (only appends whose put already returned, e.g. a
 * store used without the broker's write wait) starts this long after the append instead of after
 * the current microtask, so small bursts share a hand-off to the flush Worker (a postMessage and a
 * thread wake-up, ~15 µs here). Puts of the broker wait for their write ({@linkcode
 * CommitLog.waitForWrite}), so their rounds start at once: an acknowledged ASYNC_FLUSH message is
 * in the page cache and survives a crash of the process, as in RocketMQ.
 */
const asyncRoundDelayMs = 1;

/** Largest round written inline on the isolate; bigger ones go to the flush Worker. */
const inlineRoundBytesMax = 64 * 1024;

/** `reserve()` answer: no room in the write buffer now. */
export const RESERVE_BUSY = -1;

/** A segment could not be created; `code` is the file-system error code. */
export class SegmentCreateError extends Error {
  override name = "SegmentCreateError";
  readonly code: string;
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Records appended but not yet handed to the file system, for one segment. */
export class WriteChunk {
  readonly buffer: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  segment: Segment | undefined;
  /** Commit-log offset of `bytes[0]`. */
  startOffset = 0;
  used = 0;
  /** Bytes included in a round (in flight or done). */
  submitted = 0;
  /** Bytes a finished round wrote. */
  written = 0;
  sealed = false;

  constructor(capacity: number) {
    this.buffer = new SharedArrayBuffer(capacity);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  get capacity(): number {
    return this.bytes.length;
  }

  reset(segment: Segment, startOffset: number): void {
    this.segment = segment;
    this.startOffset = startOffset;
    this.used = 0;
    this.submitted = 0;
    this.written = 0;
    this.sealed = false;
  }
}

/** A FIFO with O(1) shift, for waiters. */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  peek(): T | undefined {
    return this.#items[this.#head];
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

interface SyncWaiter {
  endOffset: number;
  deadlineMs: number;
  result: PutMessageResult;
  resolve: (result: PutMessageResult) => void;
}

interface RoomWaiter {
  deadlineMs: number;
  resolve: (hasRoom: boolean) => void;
}

/** Commit-log configuration (resolved store options). */
export interface CommitLogOptions {
  fs: StoreFs;
  dir: string;
  segmentBytes: number;
  maxMessageSize: number;
  syncFlush: boolean;
  syncFlushTimeoutMs: number;
  flushIntervalMs: number;
  flushLeastPages: number;
  flushThoroughIntervalMs: number;
  writeBufferBytesMax: number;
  busyTimeoutMs: number;
  /** Zero-fill segments before appending to them. */
  preallocate: boolean;
  flusher: Flusher;
  /**
   * ASYNC_FLUSH with a flush Worker: writes on the isolate itself for a round without an
   * fdatasync when nothing is in flight. A put waits only for its bytes to reach the page cache,
   * and a 1 KiB `pwrite` (~10 µs) is cheaper than the round trip to the Worker (~70 µs here); the
   * Worker still runs every fdatasync, and the large rounds of a busy broker.
   */
  inlineWriter?: FlushCore;
  clock: Clock;
}

/** The commit log. Not safe to use before {@linkcode CommitLog.startAppending}. */
export class CommitLog {
  readonly options: CommitLogOptions;
  readonly chunkBytes: number;
  readonly chunkCountMax: number;
  /** Segments holding data, oldest first; the last is the one appended to. */
  readonly segments: Segment[] = [];
  #standby: Segment | undefined;
  #chunks: WriteChunk[] = [];
  #free: WriteChunk[] = [];
  #chunkCount = 0;
  #active: WriteChunk | undefined;
  #appendOffset = 0;
  #writtenOffset = 0;
  #syncedOffset = 0;
  /**
   * Puts waiting for their fdatasync. Bounded without a cap of its own: a waiter's bytes are in the
   * write buffer or in the round in flight, so there are at most writeBufferBytesMax / 91 + one
   * round's worth.
   */
  #syncWaiters = new Fifo<SyncWaiter>();
  /** Puts that wait only for their bytes to reach the file (the page cache), not an fdatasync. */
  #writeWaiters = new Fifo<SyncWaiter>();
  /** Puts waiting for room in the write buffer; capped by {@linkcode roomWaitersMax}. */
  #roomWaiters = new Fifo<RoomWaiter>();
  #roundsInFlight = 0;
  #roundQueued = false;
  /** Segments written inline (ASYNC_FLUSH) since the last sync round was submitted. */
  #inlineDirty = new Set<string>();
  /** The delayed ASYNC_FLUSH round, started early when a put begins to wait for its write. */
  #delayedRound: ReturnType<typeof setTimeout> | undefined;
  /** Bumped when a round fails: rounds already in flight behind it are void. */
  #generation = 0;
  #submittedUpTo = 0;
  #syncSubmittedUpTo = 0;
  #prefillStopping: Promise<void> | undefined;
  #inFlight = new Set<Promise<void>>();
  #syncRequested = false;
  #lastSyncMs = 0;
  #fenceReason: string | undefined;
  #diskFull = false;
  #stopping = false;
  #halted = false;
  #appending = false;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #waiterTimer: ReturnType<typeof setTimeout> | undefined;
  #waiterTimerAt = Infinity;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #rateSinceMs = performance.now();
  #rateSinceOffset = 0;
  #appendBytesPerSec = 0;
  #lastPaceMs = performance.now();
  /** fdatasync rounds that succeeded. */
  syncCount = 0;
  flushDiskTimeoutCount = 0;

  constructor(options: CommitLogOptions) {
    assert(
      options.maxMessageSize + BLANK_HEADER_BYTES <= options.segmentBytes,
      `mappedFileSizeCommitLog ${options.segmentBytes} must hold a record of maxMessageSize ${options.maxMessageSize} plus a blank`,
    );
    this.options = options;
    const wanted = Math.max(
      Math.min(writeChunkBytesMin, Math.floor(options.writeBufferBytesMax / 4)),
      options.maxMessageSize + BLANK_HEADER_BYTES,
    );
    this.chunkBytes = Math.ceil(wanted / PAGE_BYTES) * PAGE_BYTES;
    this.chunkCountMax = Math.floor(options.writeBufferBytesMax / this.chunkBytes);
    assert(
      this.chunkCountMax >= 2,
      `writeBufferBytesMax ${options.writeBufferBytesMax} must hold two chunks of ${this.chunkBytes} bytes`,
    );
  }

  /** Adopts existing segment files (recovery reads them through {@linkcode segments}). */
  load(files: SegmentFile[]): void {
    assert(this.segments.length === 0, "commit log loads once");
    for (const f of files) {
      const segment = new Segment(this.options.fs, this.options.dir, f.baseOffset, this.options.segmentBytes);
      segment.sealedAtMs = this.options.fs.modifiedMs(f.path);
      this.segments.push(segment);
    }
  }

  /**
   * After recovery: keeps the first `count` segments (the files of later ones are already gone or
   * about to be) and adopts an empty, pre-allocated segment as the next one to roll into.
   */
  trimSegments(count: number, standby: Segment | undefined): void {
    for (const segment of this.segments.splice(count)) {
      if (segment !== standby) segment.close();
    }
    if (standby) {
      this.#standby = standby;
      if (this.options.preallocate) standby.startPrefill(this.#paceStandbyPrefill);
    }
  }

  /**
   * Starts appending at `endOffset` (the end of the verified data). Creates the segment to append
   * to if needed and, for a new one, zero-fills it before returning so the first fdatasyncs are
   * not also committing file growth.
   */
  async startAppending(endOffset: number): Promise<void> {
    assertOffset(endOffset, "commit-log end offset");
    assert(!this.#appending, "commit log starts appending once");
    let last = this.segments.at(-1);
    if (!last || endOffset >= last.endOffset) {
      const base = last ? last.endOffset : endOffset - (endOffset % this.options.segmentBytes);
      assert(!last || endOffset === last.endOffset, "end offset must be inside or right after the last segment");
      last = new Segment(this.options.fs, this.options.dir, base, this.options.segmentBytes);
      try {
        last.file();
      } catch (error) {
        throw new SegmentCreateError(`Cannot create commit-log segment "${last.path}"`, errorCode(error), {
          cause: error,
        });
      }
      this.segments.push(last);
      if (this.options.preallocate) await last.prefill();
    }
    assert(endOffset >= last.baseOffset, "end offset must be inside the last segment");
    this.#appendOffset =
      this.#writtenOffset =
      this.#syncedOffset =
      this.#rateSinceOffset =
        endOffset;
    this.#lastSyncMs = performance.now();
    this.#appending = true;
    this.#prepareStandby();
    if (!this.options.syncFlush) {
      this.#flushTimer = setInterval(() => this.#onFlushInterval(), this.options.flushIntervalMs);
    }
  }

  get minOffset(): number {
    return this.segments.length > 0 ? this.segments[0].baseOffset : this.#appendOffset;
  }
  get appendOffset(): number {
    return this.#appendOffset;
  }
  get writtenOffset(): number {
    return this.#writtenOffset;
  }
  get syncedOffset(): number {
    return this.#syncedOffset;
  }
  get fenceReason(): string | undefined {
    return this.#fenceReason;
  }
  get diskFull(): boolean {
    return this.#diskFull;
  }
  /** Bytes appended but not yet handed to the file system. */
  get bufferedBytes(): number {
    return this.#appendOffset - this.#writtenOffset;
  }
  get hasRoomWaiters(): boolean {
    return this.#roomWaiters.length > 0;
  }
  /** The chunk a successful {@linkcode reserve} returned a position in. */
  get activeChunk(): WriteChunk {
    assert(this.#active !== undefined, "reserve() must succeed before the active chunk is used");
    return this.#active;
  }

  #prepareStandby(): void {
    const last = this.segments.at(-1)!;
    if (this.#standby?.baseOffset === last.endOffset) return;
    const standby = new Segment(this.options.fs, this.options.dir, last.endOffset, this.options.segmentBytes);
    try {
      standby.file();
    } catch (error) {
      logger.warn("Cannot create the next commit-log segment {path} ahead of time: {error}", {
        path: standby.path,
        error: String(error),
      });
      return;
    }
    if (this.options.preallocate) standby.startPrefill(this.#paceStandbyPrefill);
    this.#standby = standby;
  }

  /**
   * Paces the standby segment's zero-fill to about the append rate (at least
   * {@linkcode prefillBytesPerSecMin}). Zero-filling at full disk speed next to SYNC_FLUSH appends
   * more than halved their throughput here (every fdatasync's cache flush waits behind the zeros);
   * at the append rate the standby is ready about when the active segment fills.
   */
  #paceStandbyPrefill = async (sliceBytes: number): Promise<void> => {
    const now = performance.now();
    const elapsedMs = now - this.#rateSinceMs;
    if (elapsedMs >= 1000) {
      this.#appendBytesPerSec = (this.#appendOffset - this.#rateSinceOffset) * 1000 / elapsedMs;
      this.#rateSinceMs = now;
      this.#rateSinceOffset = this.#appendOffset;
    }
    const rate = Math.max(prefillBytesPerSecMin, this.#appendBytesPerSec * prefillAppendRateFactor);
    const delayMs = sliceBytes * 1000 / rate - (now - this.#lastPaceMs);
    this.#lastPaceMs = now;
    if (delayMs > 0 && !this.#halted) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, 1000)));
      this.#lastPaceMs = performance.now();
    }
  };

  #takeChunk(segment: Segment): WriteChunk | undefined {
    let chunk = this.#free.pop();
    if (!chunk) {
      if (this.#chunkCount >= this.chunkCountMax) return undefined;
      chunk = new WriteChunk(this.chunkBytes);
      this.#chunkCount++;
    }
    chunk.reset(segment, this.#appendOffset);
    this.#chunks.push(chunk);
    this.#active = chunk;
    return chunk;
  }

  #sealActive(): void {
    if (this.#active) this.#active.sealed = true;
    this.#active = undefined;
  }

  /**
   * Finds room for `size` contiguous bytes at the append offset and returns their position in
   * {@linkcode activeChunk}, or {@linkcode RESERVE_BUSY} when the write buffer is full (or others
   * already wait for room and `queued` is false). Rolls to the next segment, writing the BLANK
   * record, when the segment cannot hold the record plus a blank header.
   *
   * @throws {SegmentCreateError} when the next segment cannot be created.
   */
  reserve(size: number, queued = false): number {
    assert(this.#appending && this.#fenceReason === undefined, "reserve() needs a writable commit log");
    assert(size > 0 && size <= this.options.maxMessageSize, `reserve size ${size} must be 1..maxMessageSize`);
    if (!queued && this.#roomWaiters.length > 0) return RESERVE_BUSY;
    let segment = this.segments.at(-1)!;
    // A chunk always keeps room for a blank header, so a roll never needs a second chunk.
    if (!this.#active && !this.#takeChunk(segment)) return RESERVE_BUSY;
    if (this.#appendOffset + size + BLANK_HEADER_BYTES > segment.endOffset) {
      const next = this.#nextSegment(segment);
      const chunk = this.#active!;
      writeBlank(chunk.view, chunk.used, segment.endOffset - this.#appendOffset);
      chunk.used += BLANK_HEADER_BYTES;
      this.#sealActive();
      segment.sealedAtMs = this.options.clock.now();
      this.#appendOffset = segment.endOffset;
      this.segments.push(next);
      segment = next;
      this.#prepareStandby();
      this.#scheduleRound();
      if (!this.#takeChunk(segment)) return RESERVE_BUSY;
    }
    const chunk = this.#active!;
    if (chunk.used + size + BLANK_HEADER_BYTES > chunk.capacity) {
      this.#sealActive();
      if (!this.#takeChunk(segment)) return RESERVE_BUSY;
    }
    return this.#active!.used;
  }

  #nextSegment(current: Segment): Segment {
    const standby = this.#standby;
    if (standby && standby.baseOffset === current.endOffset) {
      this.#standby = undefined;
      return standby;
    }
    const next = new Segment(this.options.fs, this.options.dir, current.endOffset, this.options.segmentBytes);
    try {
      next.file();
    } catch (error) {
      throw new SegmentCreateError(`Cannot create commit-log segment "${next.path}"`, errorCode(error), {
        cause: error,
      });
    }
    return next;
  }

  /** Makes `size` bytes written at the reserved position part of the log. */
  commit(size: number): void {
    const chunk = this.#active!;
    assert(chunk.used + size + BLANK_HEADER_BYTES <= chunk.capacity, "commit must stay within the reserved room");
    chunk.used += size;
    this.#appendOffset += size;
    if (
      this.#roundsInFlight < roundsInFlightMax && this.#appendOffset - this.#submittedUpTo >= pipelineRoundBytesMin
    ) {
      this.#startRound();
    } else {
      this.#scheduleRound();
    }
  }

  /**
   * Resolves with `result` once an fdatasync covers `endOffset`; with FLUSH_DISK_TIMEOUT after
   * `syncFlushTimeout`; with STORE_FENCED if a write or sync fails first.
   */
  waitForSync(endOffset: number, result: PutMessageResult): Promise<PutMessageResult> {
    if (this.#syncedOffset >= endOffset) return Promise.resolve(result);
    if (this.#fenceReason !== undefined) return Promise.resolve(this.#fenced(result));
    const deadlineMs = performance.now() + this.options.syncFlushTimeoutMs;
    return new Promise((resolve) => {
      this.#syncWaiters.push({ endOffset, deadlineMs, result, resolve });
      if (this.#waiterTimer === undefined) this.#armWaiterTimer(deadlineMs);
    });
  }

  /**
   * Resolves with `result` once a write round has handed `endOffset` to the file system (the
   * page cache): RocketMQ's ASYNC_FLUSH promise, that an acknowledged message survives a crash
   * of the process (not of the machine). FLUSH_DISK_TIMEOUT after `syncFlushTimeout`;
   * STORE_FENCED if a write fails first.
   */
  waitForWrite(endOffset: number, result: PutMessageResult): Promise<PutMessageResult> {
    if (this.#writtenOffset >= endOffset) return Promise.resolve(result);
    if (this.#fenceReason !== undefined) return Promise.resolve(this.#fenced(result));
    const deadlineMs = performance.now() + this.options.syncFlushTimeoutMs;
    if (this.#delayedRound !== undefined) {
      // The append scheduled a lazy round before this put began to wait: start it now.
      clearTimeout(this.#delayedRound);
      this.#delayedRound = undefined;
      queueMicrotask(() => {
        this.#roundQueued = false;
        this.#startRound();
      });
    }
    return new Promise((resolve) => {
      this.#writeWaiters.push({ endOffset, deadlineMs, result, resolve });
      if (this.#waiterTimer === undefined) this.#armWaiterTimer(deadlineMs);
    });
  }

  #fenced(result: PutMessageResult): PutMessageResult {
    result.status = PutMessageStatus.STORE_FENCED;
    result.reason = `Cannot confirm the put: the commit log is fenced after an I/O error: ${this.#fenceReason}`;
    return result;
  }

  #armWaiterTimer(atMs: number): void {
    if (this.#waiterTimer !== undefined && this.#waiterTimerAt <= atMs) return;
    if (this.#waiterTimer !== undefined) clearTimeout(this.#waiterTimer);
    this.#waiterTimerAt = atMs;
    this.#waiterTimer = setTimeout(() => {
      this.#waiterTimer = undefined;
      this.#waiterTimerAt = Infinity;
      this.#expireWaiters();
    }, Math.max(0, atMs - performance.now()) + 1);
  }

  #expireWaiters(): void {
    const now = performance.now();
    let head = this.#syncWaiters.peek();
    while (head && head.deadlineMs <= now) {
      this.#syncWaiters.shift();
      this.flushDiskTimeoutCount++;
      head.result.status = PutMessageStatus.FLUSH_DISK_TIMEOUT;
      head.result.reason = `No fdatasync covered commit-log offset ${head.endOffset} within ` +
        `${this.options.syncFlushTimeoutMs} ms (synced up to ${this.#syncedOffset})`;
      head.resolve(head.result);
      head = this.#syncWaiters.peek();
    }
    let written = this.#writeWaiters.peek();
    while (written && written.deadlineMs <= now) {
      this.#writeWaiters.shift();
      this.flushDiskTimeoutCount++;
      written.result.status = PutMessageStatus.FLUSH_DISK_TIMEOUT;
      written.result.reason = `No write reached commit-log offset ${written.endOffset} within ` +
        `${this.options.syncFlushTimeoutMs} ms (written up to ${this.#writtenOffset})`;
      written.resolve(written.result);
      written = this.#writeWaiters.peek();
    }
    let room = this.#roomWaiters.peek();
    while (room && room.deadlineMs <= now) {
      this.#roomWaiters.shift();
      room.resolve(false);
      room = this.#roomWaiters.peek();
    }
    const next = Math.min(head?.deadlineMs ?? Infinity, written?.deadlineMs ?? Infinity, room?.deadlineMs ?? Infinity);
    if (next !== Infinity) this.#armWaiterTimer(next);
  }

  /**
   * Resolves true when a chunk is freed (retry {@linkcode reserve} with `queued`), false after
   * `osPageCacheBusyTimeOutMills`, on fencing, or when too many puts already wait.
   */
  waitForRoom(): Promise<boolean> {
    if (this.#fenceReason !== undefined || this.#stopping || this.#roomWaiters.length >= roomWaitersMax) {
      return Promise.resolve(false);
    }
    const deadlineMs = performance.now() + this.options.busyTimeoutMs;
    return new Promise((resolve) => {
      this.#roomWaiters.push({ deadlineMs, resolve });
      this.#armWaiterTimer(deadlineMs);
      this.#scheduleRound();
    });
  }

  #wakeRoomWaiters(): void {
    const waiters: RoomWaiter[] = [];
    while (this.#roomWaiters.length > 0) waiters.push(this.#roomWaiters.shift()!);
    for (const w of waiters) w.resolve(true);
  }

  #scheduleRound(): void {
    if (this.#halted || this.#roundQueued || this.#retryTimer !== undefined) return;
    if (this.#roundsInFlight >= roundsInFlightMax) return;
    this.#roundQueued = true;
    if (!this.options.syncFlush && !this.#stopping && !this.#syncRequested && this.#writeWaiters.length === 0) {
      // ASYNC_FLUSH: nobody waits for this round; see asyncRoundDelayMs.
      this.#delayedRound = setTimeout(() => {
        this.#delayedRound = undefined;
        this.#roundQueued = false;
        this.#startRound();
      }, asyncRoundDelayMs);
      return;
    }
    queueMicrotask(() => {
      this.#roundQueued = false;
      this.#startRound();
    });
  }

  #onFlushInterval(): void {
    const dirty = this.#appendOffset - this.#syncedOffset;
    if (dirty <= 0) return;
    const thorough = performance.now() - this.#lastSyncMs >= this.options.flushThoroughIntervalMs;
    if (thorough || dirty >= this.options.flushLeastPages * PAGE_BYTES) {
      this.#syncRequested = true;
      this.#scheduleRound();
    }
  }

  /**
   * Starts a round with everything appended and not yet submitted, if there is room for one more
   * in flight. Rounds complete in the order they start (one flusher, one queue).
   */
  #startRound(): void {
    if (this.#halted || this.#fenceReason !== undefined || this.#retryTimer !== undefined) return;
    if (this.#roundsInFlight >= roundsInFlightMax || this.#prefillStopping) return;
    for (const chunk of this.#chunks) {
      if (chunk.used > chunk.submitted && chunk.segment!.prefilling) {
        // No zero may land on data: wait for the zero-fill's last write, then try again.
        this.#prefillStopping = chunk.segment!.stopPrefill().then(() => {
          this.#prefillStopping = undefined;
          this.#scheduleRound();
        });
        return;
      }
    }
    const sync = this.#appendOffset > this.#syncRequestedFrom() &&
      (this.options.syncFlush || this.#syncRequested || this.#stopping);
    const ranges: FlushRange[] = [];
    const parts: Array<[WriteChunk, number]> = [];
    for (const chunk of this.#chunks) {
      if (chunk.used <= chunk.submitted) continue;
      ranges.push({
        path: chunk.segment!.path,
        filePosition: chunk.startOffset - chunk.segment!.baseOffset + chunk.submitted,
        buffer: chunk.buffer,
        start: chunk.submitted,
        end: chunk.used,
      });
      parts.push([chunk, chunk.used]);
      chunk.submitted = chunk.used;
    }
    if (ranges.length === 0 && !sync) return;
    const round = { upTo: this.#appendOffset, sync, parts, generation: this.#generation };
    this.#submittedUpTo = round.upTo;
    const inline = this.options.inlineWriter;
    if (
      !sync && inline && this.#roundsInFlight === 0 && this.#appendOffset - this.#writtenOffset <= inlineRoundBytesMax
    ) {
      // Nothing in flight, so this round cannot complete out of order.
      const result = inline.run({ ranges, sync: false });
      for (const range of ranges) this.#inlineDirty.add(range.path);
      if (this.#afterRound(result, round.upTo, false, round.parts)) this.#scheduleRound();
      return;
    }
    if (sync) this.#syncSubmittedUpTo = round.upTo;
    const alsoSync = sync && this.#inlineDirty.size > 0 ? [...this.#inlineDirty] : undefined;
    if (alsoSync) this.#inlineDirty.clear();
    this.#roundsInFlight++;
    const done = this.options.flusher.flush({ ranges, sync, alsoSync }).then((result) => {
      if (!result.ok && alsoSync) { for (const path of alsoSync) this.#inlineDirty.add(path); }
      this.#roundsInFlight--;
      this.#inFlight.delete(done);
      // A round that follows a failed one is void: the failed round's bytes are rewritten first.
      if (round.generation === this.#generation && this.#afterRound(result, round.upTo, round.sync, round.parts)) {
        this.#scheduleRound();
      }
    });
    this.#inFlight.add(done);
    // Pipelining: while this round is on the disk, the next one may already be building.
  }

  /** The offset up to which an fdatasync is already on its way (so another is not needed). */
  #syncRequestedFrom(): number {
    return Math.max(this.#syncedOffset, this.#syncSubmittedUpTo);
  }

  /** Applies a round's outcome; false when rounds must stop (fenced, or waiting for space). */
  #afterRound(result: FlushResult, upTo: number, sync: boolean, parts: Array<[WriteChunk, number]>): boolean {
    if (!result.ok) {
      this.#generation++;
      if (result.phase === "write" && result.code === "ENOSPC") {
        // Nothing the page cache held was lost: rewrite this round and every later one, same
        // bytes, same places, once space returns.
        for (const chunk of this.#chunks) chunk.submitted = chunk.written;
        this.#submittedUpTo = this.#syncSubmittedUpTo = this.#writtenOffset;
        if (!this.#diskFull) {
          logger.error("Commit-log write failed for lack of space at {path}; puts refused until space returns", {
            path: result.path,
          });
        }
        this.#diskFull = true;
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.#scheduleRound();
        }, Math.min(this.options.flushIntervalMs, 1000));
        return false;
      }
      this.fence(`${result.phase} of "${result.path}" failed: ${result.message}`);
      return false;
    }
    for (const [chunk, end] of parts) chunk.written = Math.max(chunk.written, end);
    this.#writtenOffset = Math.max(this.#writtenOffset, upTo);
    let written = this.#writeWaiters.peek();
    while (written && written.endOffset <= this.#writtenOffset) {
      this.#writeWaiters.shift();
      written.resolve(written.result);
      written = this.#writeWaiters.peek();
    }
    if (this.#diskFull) {
      logger.info("Commit-log writes succeed again; accepting puts");
      this.#diskFull = false;
    }
    while (this.#chunks.length > 0) {
      const head = this.#chunks[0];
      if (!head.sealed || head.written < head.used) break;
      this.#chunks.shift();
      head.segment = undefined;
      this.#free.push(head);
    }
    if (this.#roomWaiters.length > 0) this.#wakeRoomWaiters();
    if (sync) {
      this.syncCount++;
      this.#syncedOffset = upTo;
      this.#lastSyncMs = performance.now();
      this.#syncRequested = false;
      let head = this.#syncWaiters.peek();
      while (head && head.endOffset <= upTo) {
        this.#syncWaiters.shift();
        head.resolve(head.result);
        head = this.#syncWaiters.peek();
      }
    }
    return true;
  }

  /** Refuses every further put and fails the waiting ones. Reads continue. */
  fence(reason: string): void {
    if (this.#fenceReason !== undefined) return;
    this.#fenceReason = reason;
    logger.error(
      "Commit log fenced: {reason}. Appended up to {appendOffset}, synced up to {syncedOffset}; puts are refused " +
        "until a restart re-verifies the tail",
      { reason, appendOffset: this.#appendOffset, syncedOffset: this.#syncedOffset },
    );
    for (const waiters of [this.#syncWaiters, this.#writeWaiters]) {
      while (waiters.length > 0) {
        const waiter = waiters.shift()!;
        waiter.resolve(this.#fenced(waiter.result));
      }
    }
    while (this.#roomWaiters.length > 0) this.#roomWaiters.shift()!.resolve(false);
  }

  /**
   * Requests an fdatasync of everything appended so far and waits for it (checkpoints, shutdown).
   * False when it could not be done within `syncFlushTimeout` or the log is fenced.
   */
  async syncAll(): Promise<boolean> {
    const target = this.#appendOffset;
    if (this.#syncedOffset >= target) return true;
    if (this.#fenceReason !== undefined || this.#halted) return false;
    this.#syncRequested = true;
    this.#scheduleRound();
    const result = await this.waitForSync(target, {
      status: PutMessageStatus.PUT_OK,
      reason: "",
      commitLogOffset: -1,
      queueOffset: -1,
      size: 0,
      storeTimestamp: -1,
      messageId: "",
    });
    return result.status === PutMessageStatus.PUT_OK;
  }

  /**
   * Copies `length` bytes at `commitLogOffset` into `target` at `targetPosition`, from the write
   * chunks when they still hold them, else from the segment files. False when the range is not
   * inside [minOffset, appendOffset).
   */
  read(commitLogOffset: number, length: number, target: Uint8Array, targetPosition = 0): boolean {
    if (commitLogOffset < this.minOffset || commitLogOffset + length > this.#appendOffset || length < 0) return false;
    let offset = commitLogOffset;
    let out = targetPosition;
    let remaining = length;
    while (remaining > 0) {
      const chunk = this.#chunkAt(offset);
      if (chunk) {
        const from = offset - chunk.startOffset;
        const n = Math.min(remaining, chunk.used - from);
        target.set(chunk.bytes.subarray(from, from + n), out);
        offset += n;
        out += n;
        remaining -= n;
        continue;
      }
      const segment = this.segmentAt(offset);
      if (!segment) return false;
      const firstChunk = this.#chunks[0];
      let end = Math.min(offset + remaining, segment.endOffset);
      if (firstChunk && firstChunk.startOffset > offset) end = Math.min(end, firstChunk.startOffset);
      segment.read(target.subarray(out, out + end - offset), offset);
      out += end - offset;
      remaining -= end - offset;
      offset = end;
    }
    return true;
  }

  #chunkAt(offset: number): WriteChunk | undefined {
    for (let i = this.#chunks.length - 1; i >= 0; i--) {
      const chunk = this.#chunks[i];
      if (offset >= chunk.startOffset) return offset < chunk.startOffset + chunk.used ? chunk : undefined;
    }
    return undefined;
  }

  /** The segment holding `offset`, or undefined. */
  segmentAt(offset: number): Segment | undefined {
    const segments = this.segments;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = segments[mid];
      if (offset < s.baseOffset) hi = mid - 1;
      else if (offset >= s.endOffset) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /**
   * Deletes up to `max` of the oldest segments for which `shouldDelete` holds, stopping at the
   * first that does not; never the one being appended to. Returns the deleted count.
   */
  deleteOldestSegments(shouldDelete: (segment: Segment) => boolean, max: number): number {
    let deleted = 0;
    while (
      deleted < max && this.segments.length > 1 && this.segments[0].endOffset <= this.#writtenOffset &&
      shouldDelete(this.segments[0])
    ) {
      const segment = this.segments.shift()!;
      segment.close();
      this.options.flusher.closeFile(segment.path);
      this.options.inlineWriter?.close(segment.path);
      this.#inlineDirty.delete(segment.path);
      try {
        this.options.fs.remove(segment.path);
      } catch (error) {
        logger.error("Cannot delete commit-log segment {path}: {error}", { path: segment.path, error: String(error) });
      }
      logger.info("Deleted commit-log segment {path}", { path: segment.path });
      deleted++;
    }
    return deleted;
  }

  /** Stops appending, writes and syncs what is buffered (unless fenced), and stops the flusher. */
  async close(): Promise<void> {
    if (this.#stopping || this.#halted) return;
    this.#stopping = true;
    if (this.#appending && this.#fenceReason === undefined && !this.#diskFull) {
      if (!await this.syncAll()) {
        logger.error("Closing with commit-log bytes not synced past {offset}", { offset: this.#syncedOffset });
      }
    }
    await this.#halt();
    if (this.#standby) {
      await this.#standby.stopPrefill();
      this.#standby.close();
    }
  }

  /** Stops without flushing what is buffered, as a crash would (tests). */
  async halt(): Promise<void> {
    if (this.#halted) return;
    await this.#halt();
    if (this.#standby) await this.#standby.stopPrefill();
  }

  async #halt(): Promise<void> {
    this.#stopping = true;
    this.#halted = true;
    clearInterval(this.#flushTimer);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    clearTimeout(this.#delayedRound);
    this.#delayedRound = undefined;
    while (this.#inFlight.size > 0 || this.#prefillStopping) {
      await Promise.all([...this.#inFlight, this.#prefillStopping]);
    }
    clearTimeout(this.#waiterTimer);
    this.#waiterTimer = undefined;
    while (this.#roomWaiters.length > 0) this.#roomWaiters.shift()!.resolve(false);
    for (const waiters of [this.#syncWaiters, this.#writeWaiters]) {
      while (waiters.length > 0) {
        const waiter = waiters.shift()!;
        waiter.result.status = PutMessageStatus.SERVICE_NOT_AVAILABLE;
        waiter.result.reason = "The store closed before the put was written";
        waiter.resolve(waiter.result);
      }
    }
    for (const segment of this.segments) segment.close();
    this.options.inlineWriter?.closeAll();
    await this.options.flusher.stop();
    for (const segment of this.segments) await segment.stopPrefill();
  }
}
