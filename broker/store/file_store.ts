/**
 * The file store: commit log + consume queues + index + checkpoint + retention, on disk in
 * RocketMQ's layout (reference §12.1):
 *
 * ```text
 * <storePathRootDir>/commitlog/00000000000000000000      segments, 20-digit base offsets
 * <storePathRootDir>/consumequeue/<topic>/<queueId>/…    consume-queue files
 * <storePathRootDir>/index/yyyyMMddHHmmssSSS             index files
 * <storePathRootDir>/checkpoint                          see checkpoint.ts
 * <storePathRootDir>/abort                               exists while running
 * <storePathRootDir>/lock                                flock: one process per store
 * ```
 *
 * Dispatch is synchronous: a put writes its record into the commit log's write buffer, then its
 * consume-queue unit and index entries, then tells the dispatch listeners, all before returning.
 * A message is therefore readable as soon as it is appended, before the disk has it (as in
 * RocketMQ); in SYNC_FLUSH the put itself resolves only after an fdatasync covers it.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { assert } from "./_assert.ts";
import { denoFs, errorCode, type StoreFs } from "./_fs.ts";
import {
  BLANK_MAGIC_CODE,
  checkRecordShape,
  defaultKeys,
  defaultTagsCode,
  getU64,
  MESSAGE_MAGIC_CODE,
  offsetMessageId,
  parseDelayLevels,
  parseProperties,
  type PreparedRecord,
  RECORD_OVERHEAD_BYTES,
  RecordEncoder,
  type RecordProblem,
  type ScannedRecord,
  scanRecord,
  writeRecord,
} from "./_record.ts";
import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { CommitLog, RESERVE_BUSY, SegmentCreateError } from "./commit_log.ts";
import { BLANK_UNIT_SIZE, ConsumeQueue, type ConsumeQueueStats, CQ_UNIT_BYTES } from "./consume_queue.ts";
import { FlushCore, type Flusher, InlineFlusher, WorkerFlusher } from "./flush.ts";
import { IndexService } from "./index_file.ts";
import { repairTail, scanCommitLog } from "./recovery.ts";
import { listSegmentFiles } from "./segment.ts";
import {
  type DispatchEvent,
  type GetMessagesOptions,
  type GetMessagesResult,
  GetMessageStatus,
  type MessageStore,
  type MessageStoreOptions,
  type PutMessageResult,
  type PutMessagesResult,
  PutMessageStatus,
  putRejected,
  type QueryByKeyOptions,
  type QueryByKeyResult,
  type QueueTimeBounds,
  type QueueUnit,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  skipsConsumeQueue,
  type StoreBatch,
  type StoreMessage,
  type StoreRuntimeInfo,
} from "./store.ts";

const logger = getLogger(["denomq", "store"]);

/**
 * Units one read may scan (RocketMQ scans at most max(16000 bytes, maxMsgNums × 20) of consume
 * queue). Also the size of the reused unit buffer: 16384 × 20 bytes = 320 KiB.
 */
export const unitsScannedLimit = 16384;
/** Default units scanned per read: RocketMQ's 16000 bytes of consume queue. */
const unitsScannedDefault = 800;
/**
 * Units buffered by all consume queues together before they are all written (16 MiB). Each
 * queue also writes its own buffer when it reaches `pendingUnitsMax`.
 */
export const consumeQueuePendingBytesMax = 16 * 1024 * 1024;
/** Candidate offsets one key query follows (hash matches; keys are then checked). */
export const queryCandidatesMax = 65536;
/** Records a key query returns at most, whatever the caller asks. */
export const queryResultsMax = 64 * 1024;
/** Dispatch listeners. The broker registers a handful; more means a leak. */
export const dispatchListenersMax = 64;

const EMPTY = new Uint8Array(0);

/** Records in a buffer of back-to-back records. */
function decodeCount(records: Uint8Array): number {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let count = 0;
  for (let at = 0; at < records.length; at += view.getInt32(at)) count++;
  return count;
}

/** What recovery did, for logs and tests. */
export interface RecoveryReport {
  /** The abort marker was present or the checkpoint was missing or not clean. */
  abnormal: boolean;
  scanFrom: number;
  endOffset: number;
  recordsVerified: number;
  stopReason: string;
  dropped: Array<{ path: string; from: number; to: number }>;
  deletedSegments: string[];
}

/** The file store. Create with {@linkcode FileMessageStore.open}. */
export class FileMessageStore implements MessageStore {
  readonly options: ResolvedStoreOptions;
  readonly root: string;
  /** What the last open's recovery found. */
  recovery!: RecoveryReport;
  #fs: StoreFs;
  #commitLog!: CommitLog;
  #flusher!: Flusher;
  #encoder: RecordEncoder;
  #queues = new Map<string, Map<number, ConsumeQueue>>();
  #cqStats: ConsumeQueueStats = { pendingBytes: 0 };
  #index!: IndexService;
  #listeners = new Set<(event: DispatchEvent) => void>();
  #unlock: (() => void) | undefined;
  #delayLevelsMs: number[];
  #units = new Uint8Array(unitsScannedLimit * CQ_UNIT_BYTES);
  #unitsView = new DataView(this.#units.buffer);
  #header = new Uint8Array(RECORD_OVERHEAD_BYTES);
  #headerView = new DataView(this.#header.buffer);
  #checkpointTimer: ReturnType<typeof setTimeout> | undefined;
  #retentionTimer: ReturnType<typeof setTimeout> | undefined;
  #checkpointRunning: Promise<void> | undefined;
  #lastCheckpointOffset = -1;
  #topicsDeleted = false;
  #lastStoreTimestamp = 0;
  #diskUsedRatio = -1;
  #closed = false;
  #putCount = 0;
  #putBytes = 0;
  #busyCount = 0;

  private constructor(options: ResolvedStoreOptions) {
    this.options = options;
    this.root = options.storePathRootDir.replace(/\/+$/, "");
    this.#fs = options.fs ?? denoFs;
    this.#encoder = new RecordEncoder(options.maxMessageSize);
    this.#delayLevelsMs = parseDelayLevels(options.messageDelayLevel);
  }

  /**
   * Opens (or creates) the store at `storePathRootDir`, recovering after an unclean stop.
   *
   * @throws {Error} when another process holds the store's lock, or on I/O errors while opening.
   */
  static async open(options: MessageStoreOptions): Promise<FileMessageStore> {
    const store = new FileMessageStore(resolveStoreOptions(options));
    await store.#open();
    return store;
  }

  get #commitLogDir(): string {
    return `${this.root}/commitlog`;
  }
  get #consumeQueueDir(): string {
    return `${this.root}/consumequeue`;
  }

  async #open(): Promise<void> {
    const o = this.options;
    assert(o.mappedFileSizeConsumeQueue > 0, "mappedFileSizeConsumeQueue must be positive");
    const fs = this.#fs;
    fs.mkdir(this.root);
    this.#unlock = fs.lock(`${this.root}/lock`);
    if (!this.#unlock) throw new Error(`Cannot open store "${this.root}": another process holds its lock`);
    try {
      fs.mkdir(this.#commitLogDir);
      fs.mkdir(this.#consumeQueueDir);
      if (o.flushInWorker) {
        assert(o.fs === undefined || o.fs === denoFs, "a flush worker can only use the real file system");
        this.#flusher = new WorkerFlusher(o.workerFaultPlan);
      } else {
        this.#flusher = new InlineFlusher(fs);
      }
      this.#commitLog = new CommitLog({
        fs,
        dir: this.#commitLogDir,
        segmentBytes: o.mappedFileSizeCommitLog,
        maxMessageSize: o.maxMessageSize,
        syncFlush: o.flushDiskType === "SYNC_FLUSH",
        syncFlushTimeoutMs: o.syncFlushTimeout,
        flushIntervalMs: o.flushIntervalCommitLog,
        flushLeastPages: o.flushCommitLogLeastPages,
        flushThoroughIntervalMs: o.flushCommitLogThoroughInterval,
        writeBufferBytesMax: o.writeBufferBytesMax,
        busyTimeoutMs: o.osPageCacheBusyTimeOutMills,
        preallocate: o.warmMapedFileEnable ?? o.flushDiskType === "SYNC_FLUSH",
        flusher: this.#flusher,
        // ASYNC_FLUSH: page-cache writes on the isolate (see CommitLogOptions.inlineWriter). Not
        // with a fault plan, whose faults must all come from the worker under test.
        inlineWriter: o.flushInWorker && o.flushDiskType === "ASYNC_FLUSH" && !o.workerFaultPlan
          ? new FlushCore(fs)
          : undefined,
        clock: o.clock,
      });
      await this.#recover();
      fs.open(`${this.root}/abort`, { create: true }).close();
      fs.syncDir(this.root);
      this.#updateDiskUsage();
      await this.#checkpoint(false);
      this.#checkpointTimer = setInterval(() => void this.#checkpoint(false), o.flushIntervalConsumeQueue);
      this.#retentionTimer = setInterval(() => this.runRetention(), o.cleanResourceInterval);
    } catch (error) {
      if (this.#commitLog) await this.#commitLog.halt().catch(() => {});
      else await this.#flusher?.stop();
      for (const queues of this.#queues.values()) for (const cq of queues.values()) cq.close();
      this.#index?.close();
      this.#unlock();
      throw error;
    }
  }

  async #recover(): Promise<void> {
    const fs = this.#fs;
    const o = this.options;
    const abortMarker = fs.exists(`${this.root}/abort`);
    const checkpoint = readCheckpoint(fs, this.root);
    const commitLog = this.#commitLog;
    commitLog.load(listSegmentFiles(fs, this.#commitLogDir, o.mappedFileSizeCommitLog));
    const segments = commitLog.segments;
    let abnormal = abortMarker || !checkpoint || !checkpoint.clean;
    const logMin = segments.length > 0 ? segments[0].baseOffset : 0;
    let scanFrom = checkpoint ? Math.max(checkpoint.dispatchedOffset, logMin) : logMin;
    if (checkpoint && segments.length > 0 && checkpoint.dispatchedOffset > segments.at(-1)!.endOffset) {
      logger.error("Checkpoint says {offset} but the commit log ends at {end}: rebuilding from the last segment", {
        offset: checkpoint.dispatchedOffset,
        end: segments.at(-1)!.endOffset,
      });
      scanFrom = segments.at(-1)!.baseOffset;
      abnormal = true;
    }
    // A segment shorter than the checkpoint says lost data after the checkpoint was written.
    const synced = checkpoint?.commitLogSyncedOffset ?? 0;
    const syncedSegment = commitLog.segmentAt(Math.max(0, synced - 1));
    if (syncedSegment && syncedSegment.file().size() < synced - syncedSegment.baseOffset) {
      logger.error("Commit-log segment {path} is shorter than the checkpoint's synced offset {synced}", {
        path: syncedSegment.path,
        synced,
      });
      scanFrom = Math.min(scanFrom, syncedSegment.baseOffset);
      abnormal = true;
    }
    logger.info("Recovering store {root}: {kind}, verifying the commit log from {scanFrom}", {
      root: this.root,
      kind: abnormal ? "after an unclean stop" : "after a clean shutdown",
      scanFrom,
    });

    // Consume queues keep the units below scanFrom; the scan re-dispatches the rest.
    this.#loadQueues(scanFrom);
    this.#index = new IndexService(
      fs,
      `${this.root}/index`,
      o.maxHashSlotNum,
      o.maxIndexNum,
      () => o.clock.now(),
    );
    const scanFromIsCheckpoint = checkpoint !== undefined && scanFrom === checkpoint.dispatchedOffset;
    this.#index.load(
      scanFromIsCheckpoint ? { fileName: checkpoint.indexFileName, indexCount: checkpoint.indexCount } : undefined,
      !abnormal,
    );
    const scan = scanCommitLog({
      segments,
      scanFrom,
      maxMessageSize: o.maxMessageSize,
      checkCrc: o.checkCRCOnRecover,
      dispatch: (record, commitLogOffset) => this.#redispatch(record, commitLogOffset),
    });
    const cleanStop = scan.stopReason === "zeros" || scan.stopReason === "end of log";
    let dropped: RecoveryReport["dropped"] = [];
    let deletedSegments: string[] = [];
    const keep = scan.endSegmentIndex < segments.length && scan.endOffset < segments[scan.endSegmentIndex].endOffset
      ? scan.endSegmentIndex + 1
      : scan.endSegmentIndex;
    if (abnormal || !cleanStop) {
      if (!cleanStop) {
        logger.warn("Commit-log scan stopped at {offset}: {reason}", {
          offset: scan.endOffset,
          reason: scan.stopReason,
        });
      }
      const repair = repairTail(segments, scan, (segment) => {
        segment.close();
        fs.remove(segment.path);
      });
      dropped = repair.dropped;
      deletedSegments = repair.deletedSegments;
      commitLog.trimSegments(keep, repair.keptEmptySegment);
    } else {
      let standby = undefined;
      for (let i = keep; i < segments.length; i++) {
        const segment = segments[i];
        if (i === keep && segment.baseOffset === segments[keep - 1]?.endOffset) {
          standby = segment;
          continue;
        }
        logger.warn("Deleting commit-log segment {path}: it starts after the end of the log", { path: segment.path });
        segment.close();
        fs.remove(segment.path);
        deletedSegments.push(segment.path);
      }
      commitLog.trimSegments(keep, standby);
    }
    for (const queues of this.#queues.values()) {
      for (const cq of queues.values()) cq.correctMinOffset(commitLog.minOffset);
    }
    await commitLog.startAppending(scan.endOffset);
    this.recovery = {
      abnormal,
      scanFrom,
      endOffset: scan.endOffset,
      recordsVerified: scan.recordsVerified,
      stopReason: scan.stopReason,
      dropped,
      deletedSegments,
    };
    logger.info(
      "Recovered store {root}: {records} records verified in [{scanFrom}, {endOffset}), stopped at {stopReason}; " +
        "{droppedRanges} ranges dropped, {deletedSegments} segments deleted",
      {
        root: this.root,
        records: scan.recordsVerified,
        scanFrom,
        endOffset: scan.endOffset,
        stopReason: scan.stopReason,
        droppedRanges: dropped.length,
        deletedSegments: deletedSegments.length,
      },
    );
  }

  #loadQueues(validBelow: number): void {
    const fs = this.#fs;
    for (const topicEntry of fs.readDir(this.#consumeQueueDir)) {
      if (!topicEntry.isDirectory) continue;
      for (const queueEntry of fs.readDir(`${this.#consumeQueueDir}/${topicEntry.name}`)) {
        const queueId = Number(queueEntry.name);
        if (
          !queueEntry.isDirectory || !Number.isInteger(queueId) || queueId < 0 || String(queueId) !== queueEntry.name
        ) {
          logger.warn("Ignoring {name} in consume queue directory of {topic}", {
            name: queueEntry.name,
            topic: topicEntry.name,
          });
          continue;
        }
        const cq = this.#queue(topicEntry.name, queueId, true)!;
        cq.load();
        cq.recover(validBelow, (queueOffset, unit) => this.#unitMatchesRecord(cq, queueOffset, unit));
      }
    }
  }

  /** Recovery check of a unit: the record it points at is the queue's record at that offset. */
  #unitMatchesRecord(
    cq: ConsumeQueue,
    queueOffset: number,
    unit: { commitLogOffset: number; size: number },
  ): boolean {
    if (unit.size === BLANK_UNIT_SIZE) return true;
    const segment = this.#commitLog.segmentAt(unit.commitLogOffset);
    if (!segment || unit.size < RECORD_OVERHEAD_BYTES) return false;
    segment.read(this.#header, unit.commitLogOffset);
    const v = this.#headerView;
    return v.getInt32(0) === unit.size && v.getInt32(12) === cq.queueId && getU64(v, 20) === queueOffset &&
      getU64(v, 28) === unit.commitLogOffset;
  }

  #redispatch(record: ScannedRecord, commitLogOffset: number): void {
    const properties = parseProperties(record.properties);
    if (!skipsConsumeQueue(record.sysFlag)) {
      const tagsCode = defaultTagsCode(record.topic, properties, record.storeTimestamp, this.#delayLevelsMs);
      this.#queue(record.topic, record.queueId, true)!.put(record.queueOffset, commitLogOffset, record.size, tagsCode);
    }
    if ((record.sysFlag & 0xC) !== 0xC) {
      this.#index.put(record.topic, defaultKeys(properties), commitLogOffset, record.storeTimestamp);
    }
    this.#lastStoreTimestamp = record.storeTimestamp;
  }

  #queue(topic: string, queueId: number, create: boolean): ConsumeQueue | undefined {
    let queues = this.#queues.get(topic);
    if (!queues) {
      if (!create) return undefined;
      queues = new Map();
      this.#queues.set(topic, queues);
    }
    let cq = queues.get(queueId);
    if (!cq && create) {
      cq = new ConsumeQueue(
        this.#fs,
        this.#consumeQueueDir,
        topic,
        queueId,
        this.options.mappedFileSizeConsumeQueue,
        this.#cqStats,
      );
      queues.set(queueId, cq);
    }
    return cq;
  }

  // -------------------------------------------------------------------------------------------
  // Puts

  #refusal(): PutMessageResult | undefined {
    if (this.#closed) return putRejected(PutMessageStatus.SERVICE_NOT_AVAILABLE, "The store is closed");
    const commitLog = this.#commitLog;
    if (commitLog.fenceReason !== undefined) {
      return putRejected(
        PutMessageStatus.STORE_FENCED,
        `The store refuses puts until a restart: ${commitLog.fenceReason}`,
      );
    }
    if (commitLog.diskFull) {
      return putRejected(
        PutMessageStatus.DISK_FULL,
        "A commit-log write failed with ENOSPC; retrying until space returns",
      );
    }
    const limit = this.options.diskSpaceWarningLevelRatio / 100;
    if (this.#diskUsedRatio > limit) {
      return putRejected(
        PutMessageStatus.DISK_FULL,
        `Disk use is ${(this.#diskUsedRatio * 100).toFixed(1)}%, limit is ${this.options.diskSpaceWarningLevelRatio}%`,
      );
    }
    return undefined;
  }

  #problem(problem: RecordProblem): PutMessageResult {
    const status = problem.problem === "properties"
      ? PutMessageStatus.PROPERTIES_SIZE_EXCEEDED
      : PutMessageStatus.MESSAGE_ILLEGAL;
    return putRejected(status, `Cannot append message: ${problem.reason}`);
  }

  #segmentFailure(error: unknown): PutMessageResult {
    const code = error instanceof SegmentCreateError ? error.code : errorCode(error);
    logger.error("Cannot roll the commit log: {error}", { error: String(error) });
    return code === "ENOSPC"
      ? putRejected(PutMessageStatus.DISK_FULL, `Cannot create the next commit-log segment: ${String(error)}`)
      : putRejected(PutMessageStatus.CREATE_MAPEDFILE_FAILED, `Cannot create the next commit-log segment: ${error}`);
  }

  /** Reserve room, or undefined when busy; a rejection result when the segment roll failed. */
  #reserve(size: number, queued: boolean): number | PutMessageResult {
    try {
      return this.#commitLog.reserve(size, queued);
    } catch (error) {
      if (error instanceof SegmentCreateError) return this.#segmentFailure(error);
      throw error;
    }
  }

  putMessage(message: StoreMessage): Promise<PutMessageResult> {
    try {
      const refusal = this.#refusal();
      if (refusal) return Promise.resolve(refusal);
      const prepared = this.#encoder.prepare(message, false);
      if ("problem" in prepared) return Promise.resolve(this.#problem(prepared));
      const position = this.#reserve(prepared.size, false);
      if (typeof position !== "number") return Promise.resolve(position);
      if (position === RESERVE_BUSY) return this.#putMessageWhenRoom(message);
      return this.#appendOne(message, prepared, position);
    } catch (error) {
      return Promise.resolve(this.#unknown(error));
    }
  }

  #unknown(error: unknown): PutMessageResult {
    logger.error("Put failed unexpectedly: {error}", { error: error instanceof Error ? error.stack : String(error) });
    return putRejected(PutMessageStatus.UNKNOWN_ERROR, `Put failed unexpectedly: ${error}`);
  }

  async #putMessageWhenRoom(message: StoreMessage): Promise<PutMessageResult> {
    for (;;) {
      if (!await this.#commitLog.waitForRoom()) return this.#busy();
      const refusal = this.#refusal();
      if (refusal) return refusal;
      const prepared = this.#encoder.prepare(message, false);
      if ("problem" in prepared) return this.#problem(prepared);
      const position = this.#reserve(prepared.size, true);
      if (typeof position !== "number") return position;
      if (position !== RESERVE_BUSY) return this.#appendOne(message, prepared, position);
    }
  }

  #busy(): PutMessageResult {
    this.#busyCount++;
    const refusal = this.#refusal();
    if (refusal) return refusal;
    return putRejected(
      PutMessageStatus.OS_PAGECACHE_BUSY,
      `The write buffer (${this.options.writeBufferBytesMax} bytes) stayed full for ` +
        `${this.options.osPageCacheBusyTimeOutMills} ms: the disk is not keeping up`,
    );
  }

  #appendOne(message: StoreMessage, prepared: PreparedRecord, position: number): Promise<PutMessageResult> {
    const commitLog = this.#commitLog;
    const chunk = commitLog.activeChunk;
    const commitLogOffset = commitLog.appendOffset;
    const storeTimestamp = this.options.clock.now();
    const noUnit = skipsConsumeQueue(message.sysFlag);
    const cq = noUnit ? undefined : this.#queue(message.topic, message.queueId, true)!;
    const queueOffset = cq ? cq.maxOffset : 0;
    const size = writeRecord(
      chunk.bytes,
      chunk.view,
      position,
      message,
      prepared,
      queueOffset,
      commitLogOffset,
      storeTimestamp,
    );
    commitLog.commit(size);
    this.#dispatch(
      message.topic,
      message.queueId,
      message.sysFlag,
      message.tagsCode,
      message.keys,
      cq,
      queueOffset,
      commitLogOffset,
      size,
      storeTimestamp,
    );
    const result: PutMessageResult = {
      status: PutMessageStatus.PUT_OK,
      reason: "",
      commitLogOffset,
      queueOffset,
      size,
      storeTimestamp,
      messageId: offsetMessageId(message.storeHost, commitLogOffset),
    };
    this.#putCount++;
    this.#putBytes += size;
    if (commitLog.options.syncFlush && message.waitForFlush !== false) {
      return commitLog.waitForSync(commitLogOffset + size, result);
    }
    // ASYNC_FLUSH (or WAIT=false): acknowledged once in the page cache, as RocketMQ's mmap append.
    return commitLog.waitForWrite(commitLogOffset + size, result);
  }

  #dispatch(
    topic: string,
    queueId: number,
    sysFlag: number,
    tagsCode: number,
    keys: readonly string[],
    cq: ConsumeQueue | undefined,
    queueOffset: number,
    commitLogOffset: number,
    size: number,
    storeTimestamp: number,
  ): void {
    this.#lastStoreTimestamp = storeTimestamp;
    if (keys.length > 0 && (sysFlag & 0xC) !== 0xC) {
      try {
        this.#index.put(topic, keys, commitLogOffset, storeTimestamp);
      } catch (error) {
        // The index is secondary: a lost entry costs a lookup, never the put.
        logger.error("Cannot index the record at {offset}: {error}", { offset: commitLogOffset, error: String(error) });
      }
    }
    if (!cq) return;
    cq.put(queueOffset, commitLogOffset, size, tagsCode);
    if (this.#cqStats.pendingBytes > consumeQueuePendingBytesMax) this.#flushQueues();
    if (this.#listeners.size > 0) {
      const event: DispatchEvent = { topic, queueId, queueOffset, tagsCode, storeTimestamp };
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (error) {
          logger.error("Dispatch listener failed: {error}", { error: error instanceof Error ? error.stack : error });
        }
      }
    }
  }

  /** Writes every queue's buffered units; a failing queue is logged and retried at the next checkpoint. */
  #flushQueues(): boolean {
    let ok = true;
    for (const queues of this.#queues.values()) {
      for (const cq of queues.values()) {
        try {
          cq.flushPending();
        } catch (error) {
          ok = false;
          logger.error("Cannot write consume queue {topic}/{queueId}: {error}", {
            topic: cq.topic,
            queueId: cq.queueId,
            error: String(error),
          });
        }
      }
    }
    return ok;
  }

  putMessages(batch: StoreBatch): Promise<PutMessagesResult> {
    return this.#putBatch(batch).catch((error) => ({ ...this.#unknown(error), messageIds: [] }));
  }

  async #putBatch(batch: StoreBatch): Promise<PutMessagesResult> {
    const reject = (r: PutMessageResult): PutMessagesResult => ({
      status: r.status,
      reason: r.reason,
      commitLogOffset: -1,
      queueOffset: -1,
      size: 0,
      storeTimestamp: -1,
      messageIds: [],
    });
    if (batch.entries.length === 0) {
      return reject(putRejected(PutMessageStatus.MESSAGE_ILLEGAL, "Cannot append an empty batch"));
    }
    if (skipsConsumeQueue(batch.sysFlag)) {
      return reject(
        putRejected(PutMessageStatus.MESSAGE_ILLEGAL, "Cannot append a batch of prepared or rollback messages"),
      );
    }
    for (let queued = false;; queued = true) {
      const refusal = this.#refusal();
      if (refusal) return reject(refusal);
      const prepared: PreparedRecord[] = [];
      let total = 0;
      for (const entry of batch.entries) {
        const p = this.#encoder.prepare({ ...batch, ...entry, preparedTransactionOffset: 0 }, true);
        if ("problem" in p) return reject(this.#problem(p));
        prepared.push(p);
        total += p.size;
      }
      if (total > this.options.maxMessageSize) {
        return reject(putRejected(
          PutMessageStatus.MESSAGE_ILLEGAL,
          `Cannot append batch: ${batch.entries.length} records are ${total} bytes, limit is ${this.options.maxMessageSize} bytes`,
        ));
      }
      const position = this.#reserve(total, queued);
      if (typeof position !== "number") return reject(position);
      if (position === RESERVE_BUSY) {
        if (!await this.#commitLog.waitForRoom()) return reject(this.#busy());
        continue;
      }
      return this.#appendBatch(batch, prepared, position, total);
    }
  }

  #appendBatch(
    batch: StoreBatch,
    prepared: PreparedRecord[],
    position: number,
    total: number,
  ): Promise<PutMessagesResult> {
    const commitLog = this.#commitLog;
    const chunk = commitLog.activeChunk;
    const firstCommitLogOffset = commitLog.appendOffset;
    const storeTimestamp = this.options.clock.now();
    const cq = this.#queue(batch.topic, batch.queueId, true)!;
    const firstQueueOffset = cq.maxOffset;
    const messageIds: string[] = [];
    let at = position;
    let commitLogOffset = firstCommitLogOffset;
    for (let i = 0; i < batch.entries.length; i++) {
      const entry = batch.entries[i];
      const fields = { ...batch, ...entry, preparedTransactionOffset: 0 };
      const size = writeRecord(
        chunk.bytes,
        chunk.view,
        at,
        fields,
        prepared[i],
        firstQueueOffset + i,
        commitLogOffset,
        storeTimestamp,
      );
      at += size;
      commitLogOffset += size;
    }
    commitLog.commit(total);
    commitLogOffset = firstCommitLogOffset;
    for (let i = 0; i < batch.entries.length; i++) {
      const entry = batch.entries[i];
      const size = prepared[i].size;
      this.#dispatch(
        batch.topic,
        batch.queueId,
        batch.sysFlag,
        entry.tagsCode,
        entry.keys,
        cq,
        firstQueueOffset + i,
        commitLogOffset,
        size,
        storeTimestamp,
      );
      messageIds.push(offsetMessageId(batch.storeHost, commitLogOffset));
      commitLogOffset += size;
    }
    this.#putCount += batch.entries.length;
    this.#putBytes += total;
    const result: PutMessagesResult = {
      status: PutMessageStatus.PUT_OK,
      reason: "",
      commitLogOffset: firstCommitLogOffset,
      queueOffset: firstQueueOffset,
      size: total,
      storeTimestamp,
      messageIds,
    };
    const single = { ...putRejected(PutMessageStatus.PUT_OK, ""), size: total };
    const waited = commitLog.options.syncFlush && batch.waitForFlush !== false
      ? commitLog.waitForSync(firstCommitLogOffset + total, single)
      : commitLog.waitForWrite(firstCommitLogOffset + total, single);
    return waited.then((r) => {
      result.status = r.status;
      result.reason = r.reason;
      return result;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  getMessages(
    topic: string,
    queueId: number,
    queueOffset: number,
    options: GetMessagesOptions,
  ): Promise<GetMessagesResult> {
    return Promise.resolve(this.#getMessages(topic, queueId, queueOffset, options));
  }

  #getMessages(topic: string, queueId: number, queueOffset: number, options: GetMessagesOptions): GetMessagesResult {
    const cq = this.#queue(topic, queueId, false);
    const result: GetMessagesResult = {
      status: GetMessageStatus.NO_MATCHED_LOGIC_QUEUE,
      records: EMPTY,
      messageCount: 0,
      nextBeginOffset: 0,
      minOffset: 0,
      maxOffset: 0,
    };
    if (!cq) return result;
    const min = cq.minOffset;
    const max = cq.maxOffset;
    result.minOffset = min;
    result.maxOffset = max;
    if (max === 0) {
      result.status = GetMessageStatus.NO_MESSAGE_IN_QUEUE;
      return result;
    }
    if (queueOffset < min) {
      result.status = GetMessageStatus.OFFSET_TOO_SMALL;
      result.nextBeginOffset = min;
      return result;
    }
    if (queueOffset === max) {
      result.status = GetMessageStatus.OFFSET_OVERFLOW_ONE;
      result.nextBeginOffset = queueOffset;
      return result;
    }
    if (queueOffset > max) {
      result.status = GetMessageStatus.OFFSET_OVERFLOW_BADLY;
      result.nextBeginOffset = max; // 4.9.7 moves a pull past the end to the max, whatever the min
      return result;
    }
    if (!cq.hasFileFor(queueOffset)) {
      result.status = GetMessageStatus.OFFSET_FOUND_NULL;
      result.nextBeginOffset = Math.min(cq.nextFileOffset(queueOffset), max);
      return result;
    }
    const maxCount = Math.max(1, options.maxCount);
    const unitsMax = Math.min(
      unitsScannedLimit,
      Math.max(1, options.unitsScannedMax ?? Math.max(unitsScannedDefault, maxCount)),
    );
    const n = cq.readUnits(queueOffset, unitsMax, this.#units);
    const units = this.#unitsView;
    const commitLog = this.#commitLog;
    const logMin = commitLog.minOffset;
    const filter = options.filter;
    result.status = GetMessageStatus.NO_MATCHED_MESSAGE;
    // Selected units as (offset, size) pairs; contiguous ones are read together below.
    const selected: number[] = [];
    let bytes = 0;
    let count = 0;
    let nextSegmentStart = -1;
    let i = 0;
    for (; i < n; i++) {
      const at = i * CQ_UNIT_BYTES;
      const size = units.getInt32(at + 8);
      if (size <= 0 || size === BLANK_UNIT_SIZE) continue;
      const offset = getU64(units, at);
      if (offset < nextSegmentStart) continue;
      if (count > 0 && (count >= maxCount || bytes + size > options.maxBytes)) break;
      if (filter && !filter(getU64(units, at + 12))) continue;
      if (offset < logMin) {
        if (count === 0) result.status = GetMessageStatus.MESSAGE_WAS_REMOVING;
        nextSegmentStart = offset - (offset % this.options.mappedFileSizeCommitLog) +
          this.options.mappedFileSizeCommitLog;
        continue;
      }
      selected.push(offset, size);
      bytes += size;
      count++;
      result.status = GetMessageStatus.FOUND;
    }
    result.nextBeginOffset = queueOffset + i;
    if (count === 0) return result;
    const out = new Uint8Array(bytes);
    let at = 0;
    for (let s = 0; s < selected.length;) {
      const start = selected[s];
      let length = selected[s + 1];
      let e = s + 2;
      while (e < selected.length && selected[e] === start + length) {
        length += selected[e + 1];
        e += 2;
      }
      if (!commitLog.read(start, length, out, at)) {
        logger.error("Consume queue {topic}/{queueId} points at [{start}, {end}) outside the commit log", {
          topic,
          queueId,
          start,
          end: start + length,
        });
        out.fill(0, at, at + length);
      }
      at += length;
      s = e;
    }
    result.records = this.#checkRecords(out, selected, topic, queueId);
    result.messageCount = result.records.length === bytes ? count : decodeCount(result.records);
    if (result.messageCount === 0) result.status = GetMessageStatus.NO_MATCHED_MESSAGE;
    return result;
  }

  /** Drops (and logs) records that fail {@linkcode checkRecordShape}: disk corruption, or a cut file. */
  #checkRecords(out: Uint8Array, selected: number[], topic: string, queueId: number): Uint8Array {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let bad = 0;
    const problems: Array<string | undefined> = [];
    for (let s = 0, at = 0; s < selected.length; at += selected[s + 1], s += 2) {
      const problem = checkRecordShape(out, view, at, selected[s], selected[s + 1]);
      problems.push(problem);
      if (problem) bad++;
    }
    if (bad === 0) return out;
    const kept: Uint8Array[] = [];
    for (let s = 0, at = 0; s < selected.length; at += selected[s + 1], s += 2) {
      const problem = problems[s / 2];
      if (!problem) {
        kept.push(out.subarray(at, at + selected[s + 1]));
        continue;
      }
      logger.error("Record at {offset} for {topic}/{queueId} is corrupt ({problem}): not served", {
        offset: selected[s],
        topic,
        queueId,
        problem,
      });
    }
    const total = kept.reduce((sum, k) => sum + k.length, 0);
    const compact = new Uint8Array(total);
    let at = 0;
    for (const k of kept) {
      compact.set(k, at);
      at += k.length;
    }
    return compact;
  }

  getQueueUnits(topic: string, queueId: number, fromQueueOffset: number, max: number): QueueUnit[] {
    const cq = this.#queue(topic, queueId, false);
    if (!cq) return [];
    const from = Math.max(fromQueueOffset, cq.minOffset);
    const n = cq.readUnits(from, Math.min(max, unitsScannedLimit), this.#units);
    const units: QueueUnit[] = [];
    for (let i = 0; i < n; i++) {
      const at = i * CQ_UNIT_BYTES;
      const size = this.#unitsView.getInt32(at + 8);
      if (size <= 0 || size === BLANK_UNIT_SIZE) continue;
      units.push({
        queueOffset: from + i,
        commitLogOffset: getU64(this.#unitsView, at),
        size,
        tagsCode: getU64(this.#unitsView, at + 12),
      });
    }
    return units;
  }

  minQueueOffset(topic: string, queueId: number): number {
    return this.#queue(topic, queueId, false)?.minOffset ?? 0;
  }

  maxQueueOffset(topic: string, queueId: number): number {
    return this.#queue(topic, queueId, false)?.maxOffset ?? 0;
  }

  /** Store time of the record at a commit-log offset, or -1. */
  #storeTimeAt(commitLogOffset: number): number {
    if (!this.#commitLog.read(commitLogOffset, RECORD_OVERHEAD_BYTES, this.#header)) return -1;
    const v = this.#headerView;
    const sysFlag = v.getInt32(36);
    return getU64(v, 48 + ((sysFlag & 0x10) ? 20 : 8));
  }

  #queueStoreTime(cq: ConsumeQueue, queueOffset: number): number {
    const unit = cq.unit(queueOffset);
    if (!unit || unit.size <= 0 || unit.size === BLANK_UNIT_SIZE) return -1;
    return this.#storeTimeAt(unit.commitLogOffset);
  }

  searchQueueOffsetByTimestamp(topic: string, queueId: number, timestampMs: number): Promise<number> {
    const cq = this.#queue(topic, queueId, false);
    if (!cq || cq.maxOffset <= cq.minOffset) return Promise.resolve(0);
    let lo = cq.minOffset;
    let hi = cq.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.#queueStoreTime(cq, mid) < timestampMs) lo = mid + 1;
      else hi = mid;
    }
    if (lo < cq.maxOffset && this.#queueStoreTime(cq, lo) === timestampMs) return Promise.resolve(lo);
    if (lo === cq.minOffset) return Promise.resolve(lo);
    if (lo === cq.maxOffset) return Promise.resolve(lo - 1);
    const left = this.#queueStoreTime(cq, lo - 1);
    const right = this.#queueStoreTime(cq, lo);
    return Promise.resolve(Math.abs(timestampMs - left) > Math.abs(timestampMs - right) ? lo : lo - 1);
  }

  earliestMessageStoreTime(): Promise<number> {
    const commitLog = this.#commitLog;
    if (commitLog.appendOffset <= commitLog.minOffset) return Promise.resolve(-1);
    return Promise.resolve(this.#storeTimeAt(commitLog.minOffset));
  }

  queueStoreTimeBounds(topic: string, queueId: number): Promise<QueueTimeBounds> {
    const cq = this.#queue(topic, queueId, false);
    if (!cq || cq.maxOffset <= cq.minOffset) return Promise.resolve({ earliestMs: -1, latestMs: -1 });
    return Promise.resolve({
      earliestMs: this.#queueStoreTime(cq, cq.minOffset),
      latestMs: this.#queueStoreTime(cq, cq.maxOffset - 1),
    });
  }

  readRecord(commitLogOffset: number): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#readRecord(commitLogOffset));
  }

  #readRecord(commitLogOffset: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(commitLogOffset) || commitLogOffset < 0) return undefined;
    const commitLog = this.#commitLog;
    if (!commitLog.read(commitLogOffset, 8, this.#header)) return undefined;
    const size = this.#headerView.getInt32(0);
    if (
      this.#headerView.getInt32(4) !== MESSAGE_MAGIC_CODE || size < RECORD_OVERHEAD_BYTES ||
      size > this.options.mappedFileSizeCommitLog
    ) {
      return undefined;
    }
    const record = new Uint8Array(size);
    if (!commitLog.read(commitLogOffset, size, record)) return undefined;
    const problem = checkRecordShape(record, new DataView(record.buffer), 0, commitLogOffset, size);
    if (problem) {
      logger.error("Record at {offset} is corrupt ({problem}): not served", { offset: commitLogOffset, problem });
      return undefined;
    }
    return record;
  }

  queryByKey(topic: string, key: string, options: QueryByKeyOptions): Promise<QueryByKeyResult> {
    const maxCount = Math.max(0, Math.min(options.maxCount, queryResultsMax));
    const candidates = this.#index.select(
      topic,
      key,
      Math.min(queryCandidatesMax, maxCount * 4),
      options.beginMs,
      options.endMs,
    );
    const records: Uint8Array[] = [];
    const seen = new Set<number>();
    for (const offset of candidates) {
      if (records.length >= maxCount) break;
      if (seen.has(offset)) continue;
      seen.add(offset);
      const record = this.#readRecord(offset);
      if (!record) continue;
      const scanned = scanRecord(record, new DataView(record.buffer), 0, offset, false);
      if (typeof scanned === "string" || scanned.topic !== topic) continue;
      const keys = defaultKeys(parseProperties(scanned.properties));
      if (keys.includes(key)) records.push(record);
    }
    return Promise.resolve({
      records,
      indexLastUpdateTimestamp: this.#index.lastUpdateTimestamp,
      indexLastUpdatePhyoffset: this.#index.lastUpdatePhyOffset,
    });
  }

  async deleteTopic(topic: string): Promise<void> {
    const queues = this.#queues.get(topic);
    if (!queues) return;
    for (const cq of queues.values()) cq.destroy();
    this.#queues.delete(topic);
    try {
      this.#fs.remove(`${this.#consumeQueueDir}/${topic}`, { recursive: true });
    } catch (error) {
      if (errorCode(error) !== "ENOENT") {
        logger.error("Cannot delete consume queues of {topic}: {error}", { topic, error: String(error) });
      }
    }
    logger.info("Deleted consume queues of topic {topic}", { topic });
    // Without a checkpoint past the deletion, a crash would re-dispatch the topic's newest records.
    this.#topicsDeleted = true;
    if (!this.#closed) await this.#checkpoint(false);
  }

  queues(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const [topic, queues] of this.#queues) out.set(topic, [...queues.keys()].sort((a, b) => a - b));
    return out;
  }

  commitLogMinOffset(): number {
    return this.#commitLog.minOffset;
  }

  commitLogMaxOffset(): number {
    return this.#commitLog.appendOffset;
  }

  runtimeInfo(): StoreRuntimeInfo {
    const commitLog = this.#commitLog;
    let queueCount = 0;
    for (const queues of this.#queues.values()) queueCount += queues.size;
    return {
      commitLogMinOffset: commitLog.minOffset,
      commitLogMaxOffset: commitLog.appendOffset,
      commitLogFlushedOffset: commitLog.syncedOffset,
      commitLogWrittenOffset: commitLog.writtenOffset,
      diskUsedRatio: this.#diskUsedRatio,
      fenced: commitLog.fenceReason !== undefined,
      fenceReason: commitLog.fenceReason ?? "",
      diskFull: commitLog.diskFull || this.#diskUsedRatio > this.options.diskSpaceWarningLevelRatio / 100,
      putMessageCount: this.#putCount,
      putMessageBytes: this.#putBytes,
      pageCacheBusyCount: this.#busyCount,
      flushDiskTimeoutCount: commitLog.flushDiskTimeoutCount,
      commitLogSyncCount: commitLog.syncCount,
      writeBufferBytes: commitLog.bufferedBytes,
      consumeQueueCount: queueCount,
    };
  }

  onDispatch(listener: (event: DispatchEvent) => void): () => void {
    assert(this.#listeners.size < dispatchListenersMax, `dispatch listeners must stay under ${dispatchListenersMax}`);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Checkpoints and retention

  /**
   * Writes consume queues and index, fdatasyncs them and the commit log, then records the
   * checkpoint. Skipped while fenced or short of space (the next one catches up).
   */
  #checkpoint(clean: boolean): Promise<void> {
    if (this.#checkpointRunning) {
      return clean ? this.#checkpointRunning.then(() => this.#checkpoint(clean)) : this.#checkpointRunning;
    }
    this.#checkpointRunning = this.#runCheckpoint(clean).finally(() => this.#checkpointRunning = undefined);
    return this.#checkpointRunning;
  }

  async #runCheckpoint(clean: boolean): Promise<void> {
    const commitLog = this.#commitLog;
    const dispatched = commitLog.appendOffset;
    if (!clean && dispatched === this.#lastCheckpointOffset && !this.#topicsDeleted) return;
    if (commitLog.fenceReason !== undefined) return;
    const index = this.#index.checkpoint();
    const lastStoreTimestamp = this.#lastStoreTimestamp;
    const topicsDeleted = this.#topicsDeleted;
    try {
      if (!this.#flushQueues()) return;
      this.#index.flush();
      if (!await commitLog.syncAll()) return;
      for (const queues of [...this.#queues.values()]) {
        for (const cq of [...queues.values()]) await cq.syncFiles();
      }
      await this.#index.sync();
      if (commitLog.syncedOffset < dispatched) return;
      writeCheckpoint(this.#fs, this.root, {
        physicMsgTimestamp: lastStoreTimestamp,
        logicsMsgTimestamp: lastStoreTimestamp,
        indexMsgTimestamp: lastStoreTimestamp,
        commitLogSyncedOffset: commitLog.syncedOffset,
        dispatchedOffset: dispatched,
        indexFileName: index.fileName,
        indexCount: index.indexCount,
        clean: clean && commitLog.appendOffset === dispatched,
      });
      this.#lastCheckpointOffset = dispatched;
      if (topicsDeleted) this.#topicsDeleted = false;
    } catch (error) {
      logger.error("Checkpoint failed (recovery will start from the previous one): {error}", {
        error: error instanceof Error ? error.stack : String(error),
      });
    }
  }

  #updateDiskUsage(): void {
    const usage = this.#fs.diskUsage(this.root);
    this.#diskUsedRatio = usage && usage.totalBytes > 0 ? 1 - usage.freeBytes / usage.totalBytes : -1;
  }

  /**
   * Deletes commit-log segments past `fileReservedTime` when the hour is one of `deleteWhen`, or
   * the oldest ones regardless of age when disk use exceeds `diskMaxUsedSpaceRatio`; then the
   * consume-queue and index files that only point below the new minimum. Runs on a timer; tests
   * call it directly. Returns the number of segments deleted.
   */
  runRetention(): number {
    if (this.#closed) return 0;
    try {
      this.#updateDiskUsage();
      const o = this.options;
      const now = o.clock.now();
      const hour = new Date(now).getHours();
      const timeUp = o.deleteWhen.split(";").some((h) => h.trim() !== "" && Number(h) === hour);
      const force = this.#diskUsedRatio > o.diskMaxUsedSpaceRatio / 100;
      const expiredBefore = now - o.fileReservedTime * 3_600_000;
      const deleted = this.#commitLog.deleteOldestSegments(
        (segment) => force || (timeUp && segment.sealedAtMs >= 0 && segment.sealedAtMs < expiredBefore),
        o.deleteFilesBatchMax,
      );
      if (deleted > 0) {
        const min = this.#commitLog.minOffset;
        for (const queues of this.#queues.values()) for (const cq of queues.values()) cq.deleteBelow(min);
        this.#index.deleteBelow(min);
        logger.info("Retention deleted {deleted} commit-log segments ({why}); minimum offset is now {min}", {
          deleted,
          why: force
            ? `disk use ${(this.#diskUsedRatio * 100).toFixed(1)}% over ${o.diskMaxUsedSpaceRatio}%`
            : "expired",
          min,
        });
        this.#updateDiskUsage();
      }
      return deleted;
    } catch (error) {
      logger.error("Retention failed: {error}", { error: error instanceof Error ? error.stack : String(error) });
      return 0;
    }
  }

  /**
   * Reads the whole commit log and verifies every record as recovery does (body CRC included),
   * for tooling and tests: recovery only verifies what follows the checkpoint. A corrupt record
   * whose size and magic still hold is skipped over; otherwise the rest of its segment is
   * reported unreadable. Blocks the isolate while it reads.
   */
  verifyCommitLog(): { records: number; corrupt: Array<{ commitLogOffset: number; reason: string }> } {
    const commitLog = this.#commitLog;
    const corrupt: Array<{ commitLogOffset: number; reason: string }> = [];
    let records = 0;
    let offset = commitLog.minOffset;
    let buffer = new Uint8Array(this.options.maxMessageSize);
    let view = new DataView(buffer.buffer);
    while (offset + 8 <= commitLog.appendOffset) {
      const segment = commitLog.segmentAt(offset)!;
      commitLog.read(offset, 8, buffer);
      const size = view.getInt32(0);
      const magic = view.getInt32(4);
      if (magic === BLANK_MAGIC_CODE && size === segment.endOffset - offset) {
        offset = segment.endOffset;
        continue;
      }
      const sizeOk = magic === MESSAGE_MAGIC_CODE && size >= RECORD_OVERHEAD_BYTES &&
        offset + size <= Math.min(segment.endOffset - 8, commitLog.appendOffset);
      if (!sizeOk) {
        corrupt.push({ commitLogOffset: offset, reason: `unreadable to the end of the segment: size ${size}` });
        offset = segment.endOffset;
        continue;
      }
      if (size > buffer.length) {
        buffer = new Uint8Array(size);
        view = new DataView(buffer.buffer);
      }
      commitLog.read(offset, size, buffer);
      const scanned = scanRecord(buffer.subarray(0, size), view, 0, offset, true);
      if (typeof scanned === "string") corrupt.push({ commitLogOffset: offset, reason: scanned });
      else records++;
      offset += size;
    }
    return { records, corrupt };
  }

  /** Waits for a checkpoint covering everything appended so far (tests, admin). */
  flushCheckpoint(): Promise<void> {
    return this.#checkpoint(false);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#checkpointTimer);
    clearInterval(this.#retentionTimer);
    const fenced = this.#commitLog.fenceReason !== undefined;
    await this.#checkpoint(!fenced);
    await this.#commitLog.close();
    const clean = !fenced && this.#commitLog.syncedOffset === this.#commitLog.appendOffset;
    for (const queues of this.#queues.values()) for (const cq of queues.values()) cq.close();
    this.#index.close();
    if (clean) {
      this.#fs.remove(`${this.root}/abort`);
      this.#fs.syncDir(this.root);
    } else {
      logger.warn("Store {root} closed uncleanly: the next open verifies the commit-log tail", { root: this.root });
    }
    this.#unlock?.();
    this.#unlock = undefined;
  }

  /**
   * Stops like a crash (tests): no flush, no checkpoint, the abort marker stays. Bytes already
   * handed to the file system stay there; a {@linkcode MemoryFs} crash decides which survive.
   */
  async halt(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#checkpointTimer);
    clearInterval(this.#retentionTimer);
    await this.#checkpointRunning?.catch(() => {});
    await this.#commitLog.halt();
    for (const queues of this.#queues.values()) for (const cq of queues.values()) cq.close();
    this.#index.close();
    this.#unlock?.();
    this.#unlock = undefined;
  }

  /** For tests: the commit log (fencing state, offsets). */
  get commitLog(): CommitLog {
    return this.#commitLog;
  }

  /** For tests: the flusher (an {@linkcode InlineFlusher} unless a worker is used). */
  get flusher(): Flusher {
    return this.#flusher;
  }
}
