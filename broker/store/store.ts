/**
 * The message store's interface, statuses and typed results: what the broker calls.
 *
 * The store speaks its own language (RocketMQ's `PutMessageStatus` / `GetMessageStatus`); the
 * broker maps statuses to response codes with an exhaustive switch. Nothing here knows the network.
 * Offsets are `number`s asserted `Number.isSafeInteger`: `commitLogOffset` counts bytes of the
 * commit log, `queueOffset` counts units of one consume queue.
 *
 * Imports only the pure record codec from `protocol/`.
 *
 * @module
 */

import type { SocketAddress } from "../../protocol/message.ts";
import type { StoreFs } from "./_fs.ts";

export type { SocketAddress };

/** Outcome of a put (`PutMessageStatus.java`, plus the fenced and disk-full states). */
export enum PutMessageStatus {
  /** Appended; in SYNC_FLUSH with `waitForFlush`, also covered by an fdatasync. */
  PUT_OK = "PUT_OK",
  /** Appended, but no fdatasync covered it within `syncFlushTimeout`: it may or may not survive a crash. */
  FLUSH_DISK_TIMEOUT = "FLUSH_DISK_TIMEOUT",
  /** Store closed or not writable for another reason stated in `reason`. */
  SERVICE_NOT_AVAILABLE = "SERVICE_NOT_AVAILABLE",
  /** A new commit-log segment could not be created (not for lack of space). */
  CREATE_MAPEDFILE_FAILED = "CREATE_MAPEDFILE_FAILED",
  /** Record larger than `maxMessageSize`, topic too long, or an invalid field. */
  MESSAGE_ILLEGAL = "MESSAGE_ILLEGAL",
  /** Properties longer than the 32767 bytes the record layout allows. */
  PROPERTIES_SIZE_EXCEEDED = "PROPERTIES_SIZE_EXCEEDED",
  /** The bounded write buffer stayed full for `osPageCacheBusyTimeOutMills`: the disk is not keeping up. */
  OS_PAGECACHE_BUSY = "OS_PAGECACHE_BUSY",
  /** Unexpected failure, logged with its stack. */
  UNKNOWN_ERROR = "UNKNOWN_ERROR",
  /**
   * A commit-log write or fdatasync failed: puts are refused until a restart re-verifies the tail
   * (after an fsync error the page cache can no longer be trusted). Reads are still served.
   */
  STORE_FENCED = "STORE_FENCED",
  /** The disk is (nearly) full; puts resume when space returns. */
  DISK_FULL = "DISK_FULL",
}

/** Outcome of a read (`GetMessageStatus.java`). */
export enum GetMessageStatus {
  FOUND = "FOUND",
  /** Units were scanned but none passed the filter. */
  NO_MATCHED_MESSAGE = "NO_MATCHED_MESSAGE",
  /** The commit log holding the units was already deleted. */
  MESSAGE_WAS_REMOVING = "MESSAGE_WAS_REMOVING",
  /** The consume-queue file for the offset is missing. */
  OFFSET_FOUND_NULL = "OFFSET_FOUND_NULL",
  /** Offset beyond the queue's maximum + 1. */
  OFFSET_OVERFLOW_BADLY = "OFFSET_OVERFLOW_BADLY",
  /** Offset equal to the queue's maximum: the consumer is caught up. */
  OFFSET_OVERFLOW_ONE = "OFFSET_OVERFLOW_ONE",
  /** Offset below the queue's minimum (deleted by retention). */
  OFFSET_TOO_SMALL = "OFFSET_TOO_SMALL",
  /** No such consume queue. */
  NO_MATCHED_LOGIC_QUEUE = "NO_MATCHED_LOGIC_QUEUE",
  /** The queue exists but has never held a message. */
  NO_MESSAGE_IN_QUEUE = "NO_MESSAGE_IN_QUEUE",
}

/** One message to append. The store assigns queue offset, commit-log offset and store time. */
export interface StoreMessage {
  topic: string;
  queueId: number;
  /** User flag, stored verbatim. */
  flag: number;
  /** Record sysFlag; host-kind bits are set from the addresses. */
  sysFlag: number;
  bornTimestamp: number;
  bornHost: SocketAddress;
  storeHost: SocketAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Uint8Array;
  /** The raw properties string, final (`name\u0001value\u0002…`). */
  properties: string;
  /** Put in the consume-queue unit: the tags hash, or the delivery time for SCHEDULE_TOPIC_XXXX. */
  tagsCode: number;
  /** Keys to index as `topic#key`: the KEYS tokens plus UNIQ_KEY. */
  keys: readonly string[];
  /** The WAIT property: in SYNC_FLUSH only `true` waits for the fdatasync. Default true. */
  waitForFlush?: boolean;
}

/** Result of {@linkcode MessageStore.putMessage}. Offsets are -1 when nothing was appended. */
export interface PutMessageResult {
  status: PutMessageStatus;
  /** Why a put was not PUT_OK, with the value and the limit. Empty on success. */
  reason: string;
  commitLogOffset: number;
  queueOffset: number;
  /** Record bytes. */
  size: number;
  storeTimestamp: number;
  /** offsetMsgId: store host + commit-log offset in hex. Empty when nothing was appended. */
  messageId: string;
}

/** One message of a batch; the rest of the fields are shared. */
export interface StoreBatchEntry {
  flag: number;
  body: Uint8Array;
  properties: string;
  tagsCode: number;
  keys: readonly string[];
}

/** A batch for one topic and queue: consecutive queue offsets, contiguous records. */
export interface StoreBatch {
  topic: string;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: SocketAddress;
  storeHost: SocketAddress;
  reconsumeTimes: number;
  entries: readonly StoreBatchEntry[];
  waitForFlush?: boolean;
}

/** Result of {@linkcode MessageStore.putMessages}: first offsets plus one id per message. */
export interface PutMessagesResult {
  status: PutMessageStatus;
  reason: string;
  /** Commit-log offset of the first record. */
  commitLogOffset: number;
  /** Queue offset of the first message. */
  queueOffset: number;
  /** Bytes of all records. */
  size: number;
  storeTimestamp: number;
  messageIds: string[];
}

/** Options of {@linkcode MessageStore.getMessages}. */
export interface GetMessagesOptions {
  /** Most messages to return. */
  maxCount: number;
  /** Most record bytes to return; at least one message is returned even if larger. */
  maxBytes: number;
  /** Tag filter on the unit's tags code; skipped units still advance `nextBeginOffset`. */
  filter?: (tagsCode: number) => boolean;
  /** Most consume-queue units to scan (RocketMQ: max(16000 bytes / 20, maxMsgNums)). */
  unitsScannedMax?: number;
}

/** Result of {@linkcode MessageStore.getMessages}. */
export interface GetMessagesResult {
  status: GetMessageStatus;
  /** Raw stored records back to back, ready to be a PULL_MESSAGE body. A fresh copy. */
  records: Uint8Array;
  messageCount: number;
  /** Where the next pull should start: counts units skipped by the filter. */
  nextBeginOffset: number;
  minOffset: number;
  /** Exclusive: the next queue offset to be written. */
  maxOffset: number;
}

/** One consume-queue unit. */
export interface QueueUnit {
  queueOffset: number;
  commitLogOffset: number;
  size: number;
  tagsCode: number;
}

/** Options of {@linkcode MessageStore.queryByKey}. */
export interface QueryByKeyOptions {
  maxCount: number;
  beginMs: number;
  endMs: number;
}

/** Result of {@linkcode MessageStore.queryByKey}. */
export interface QueryByKeyResult {
  /** Raw records whose KEYS or UNIQ_KEY equals the key, newest index file first. */
  records: Uint8Array[];
  /** Store time of the last indexed record (QUERY_MESSAGE's `indexLastUpdateTimestamp`). */
  indexLastUpdateTimestamp: number;
  /** Commit-log offset of the last indexed record (`indexLastUpdatePhyoffset`). */
  indexLastUpdatePhyoffset: number;
}

/** Passed to dispatch listeners after a record's consume-queue unit is written. */
export interface DispatchEvent {
  topic: string;
  queueId: number;
  queueOffset: number;
  tagsCode: number;
  storeTimestamp: number;
}

/** Store time of a queue's first and last messages, -1 when empty. */
export interface QueueTimeBounds {
  earliestMs: number;
  latestMs: number;
}

/** Numbers for the broker's runtime info. */
export interface StoreRuntimeInfo {
  commitLogMinOffset: number;
  commitLogMaxOffset: number;
  /** Covered by an fdatasync. */
  commitLogFlushedOffset: number;
  /** Handed to the file system (page cache). */
  commitLogWrittenOffset: number;
  /** Fraction 0..1 of the store's disk in use; -1 when unknown. */
  diskUsedRatio: number;
  fenced: boolean;
  fenceReason: string;
  diskFull: boolean;
  putMessageCount: number;
  putMessageBytes: number;
  /** Puts answered OS_PAGECACHE_BUSY. */
  pageCacheBusyCount: number;
  flushDiskTimeoutCount: number;
  /** fdatasync calls made for the commit log. */
  commitLogSyncCount: number;
  /** Bytes held in the bounded write buffer, not yet handed to the file system. */
  writeBufferBytes: number;
  consumeQueueCount: number;
}

/** Milliseconds since the epoch; injected so tests control time. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Configuration, with RocketMQ's `MessageStoreConfig` names where one exists. */
export interface MessageStoreOptions {
  /** Root directory (RocketMQ's default is `~/store`). */
  storePathRootDir: string;
  /** Commit-log segment bytes. Default 1 GiB. */
  mappedFileSizeCommitLog?: number;
  /** Consume-queue file size in units (20 bytes each). Default 300000. */
  mappedFileSizeConsumeQueue?: number;
  /** Default "ASYNC_FLUSH" as in RocketMQ. */
  flushDiskType?: "SYNC_FLUSH" | "ASYNC_FLUSH";
  /** How long a SYNC_FLUSH put waits for its fdatasync. Default 5000 ms. */
  syncFlushTimeout?: number;
  /** ASYNC_FLUSH fdatasync interval. Default 500 ms. */
  flushIntervalCommitLog?: number;
  /** ASYNC_FLUSH syncs when at least this many 4 KiB pages are dirty. Default 4. */
  flushCommitLogLeastPages?: number;
  /** ASYNC_FLUSH syncs at least this often even below the page threshold. Default 10000 ms. */
  flushCommitLogThoroughInterval?: number;
  /** Checkpoint interval: consume queues and index are flushed, synced and recorded. Default 1000 ms. */
  flushIntervalConsumeQueue?: number;
  /** Largest record in bytes. Default 4 MiB. */
  maxMessageSize?: number;
  /** Hours a commit-log segment is kept. Default 72. */
  fileReservedTime?: number;
  /** Hours of the day (`"04"`, or `"04;16"`) when expired segments are deleted. Default "04". */
  deleteWhen?: string;
  /** Above this disk use (percent) segments are deleted early, oldest first. Default 75. */
  diskMaxUsedSpaceRatio?: number;
  /** Above this disk use (percent) puts are refused with DISK_FULL. Default 90. */
  diskSpaceWarningLevelRatio?: number;
  /** How often retention runs. Default 10000 ms. */
  cleanResourceInterval?: number;
  /** Segments deleted per retention pass (`deleteCommitLogFilesInterval` spirit). Default 10. */
  deleteFilesBatchMax?: number;
  /** Index: hash slots per file. Default 5000000. */
  maxHashSlotNum?: number;
  /** Index: entries per file. Default 20000000. */
  maxIndexNum?: number;
  /** How long a put waits for room in the write buffer before OS_PAGECACHE_BUSY. Default 1000 ms. */
  osPageCacheBusyTimeOutMills?: number;
  /** Bytes of records held in memory before the file system has them. Default 64 MiB. */
  writeBufferBytesMax?: number;
  /**
   * Delay levels (RocketMQ's `messageDelayLevel`), used to recompute the delivery time that
   * SCHEDULE_TOPIC_XXXX units carry when recovery re-dispatches them.
   * Default "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h".
   */
  messageDelayLevel?: string;
  /**
   * Zero-fill each commit-log segment in the background before it is appended to (RocketMQ's
   * `warmMapedFileEnable`), so fdatasync does not also commit file growth: measured here that
   * nearly doubles the fdatasync rate, at the price of writing every segment twice. Default: on
   * with SYNC_FLUSH, where fdatasyncs are on the put path; off with ASYNC_FLUSH, where they are not
   * and the second write would only halve the sustained disk bandwidth.
   */
  warmMapedFileEnable?: boolean;
  /** Verify body CRCs during recovery. Default true. */
  checkCRCOnRecover?: boolean;
  /**
   * Run the commit-log writes and fdatasyncs in a dedicated Worker (sync API), so the isolate never
   * waits on the disk. Default true. `false` flushes on the isolate: faster in a put-only
   * benchmark, but every fdatasync then stalls every connection.
   */
  flushInWorker?: boolean;
  /** Time source. Default {@linkcode systemClock}. */
  clock?: Clock;
  /** File system seam. Default the real one. Must be the real one (or a fault plan) with a worker. */
  fs?: StoreFs;
  /** Fault plan the worker applies to its own file system (tests only). */
  workerFaultPlan?: import("./_fs.ts").FaultPlan;
}

/**
 * The store. Implemented by the file store (`file_store.ts`) and the memory store
 * (`memory_store.ts`); `store_contract_test.ts` runs one suite on both.
 */
export interface MessageStore {
  /** Appends one message. Never rejects: failures are statuses. */
  putMessage(message: StoreMessage): Promise<PutMessageResult>;
  /** Appends a batch for one queue as contiguous records with consecutive queue offsets. */
  putMessages(batch: StoreBatch): Promise<PutMessagesResult>;
  /** Reads a batch of raw records from a queue (reference §7.5, §7.6). */
  getMessages(
    topic: string,
    queueId: number,
    queueOffset: number,
    options: GetMessagesOptions,
  ): Promise<GetMessagesResult>;
  /** Consume-queue units from `fromQueueOffset`, at most `max` (the delay scheduler walks these). */
  getQueueUnits(topic: string, queueId: number, fromQueueOffset: number, max: number): QueueUnit[];
  /** First queue offset still readable; 0 for an unknown queue. */
  minQueueOffset(topic: string, queueId: number): number;
  /** Next queue offset to be written (exclusive); 0 for an unknown queue. */
  maxQueueOffset(topic: string, queueId: number): number;
  /** Queue offset whose store time equals `timestampMs`, else the nearer neighbour; 0 when empty. */
  searchQueueOffsetByTimestamp(topic: string, queueId: number, timestampMs: number): Promise<number>;
  /** Store time of the oldest record in the commit log, -1 when empty. */
  earliestMessageStoreTime(): Promise<number>;
  /** Store times of a queue's first and last readable messages. */
  queueStoreTimeBounds(topic: string, queueId: number): Promise<QueueTimeBounds>;
  /** The raw record at a commit-log offset, or undefined when there is none. */
  readRecord(commitLogOffset: number): Promise<Uint8Array | undefined>;
  /** Records indexed under `topic#key` (KEYS tokens and UNIQ_KEY). */
  queryByKey(topic: string, key: string, options: QueryByKeyOptions): Promise<QueryByKeyResult>;
  /** Drops a topic's consume queues; its records stay in the commit log until retention. */
  deleteTopic(topic: string): Promise<void>;
  /** Topics with at least one consume queue, and their queue ids. */
  queues(): Map<string, number[]>;
  commitLogMinOffset(): number;
  commitLogMaxOffset(): number;
  runtimeInfo(): StoreRuntimeInfo;
  /** Calls `listener` after each consume-queue unit is written; returns an unsubscribe function. */
  onDispatch(listener: (event: DispatchEvent) => void): () => void;
  /** Flushes, syncs, checkpoints and removes the abort marker. Idempotent. */
  close(): Promise<void>;
}

/** Configuration after defaults; every field present. */
export type ResolvedStoreOptions =
  & Required<Omit<MessageStoreOptions, "fs" | "workerFaultPlan" | "warmMapedFileEnable">>
  & Pick<MessageStoreOptions, "fs" | "workerFaultPlan" | "warmMapedFileEnable">;

/** RocketMQ's defaults. */
export const STORE_DEFAULTS: Omit<ResolvedStoreOptions, "storePathRootDir"> = {
  mappedFileSizeCommitLog: 1024 * 1024 * 1024,
  mappedFileSizeConsumeQueue: 300_000,
  flushDiskType: "ASYNC_FLUSH",
  syncFlushTimeout: 5000,
  flushIntervalCommitLog: 500,
  flushCommitLogLeastPages: 4,
  flushCommitLogThoroughInterval: 10_000,
  flushIntervalConsumeQueue: 1000,
  maxMessageSize: 4 * 1024 * 1024,
  fileReservedTime: 72,
  deleteWhen: "04",
  diskMaxUsedSpaceRatio: 75,
  diskSpaceWarningLevelRatio: 90,
  cleanResourceInterval: 10_000,
  deleteFilesBatchMax: 10,
  maxHashSlotNum: 5_000_000,
  maxIndexNum: 20_000_000,
  osPageCacheBusyTimeOutMills: 1000,
  writeBufferBytesMax: 64 * 1024 * 1024,
  messageDelayLevel: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h",
  checkCRCOnRecover: true,
  flushInWorker: true,
  clock: systemClock,
};

/** Applies defaults. */
export function resolveStoreOptions(options: MessageStoreOptions): ResolvedStoreOptions {
  const resolved = { ...STORE_DEFAULTS } as ResolvedStoreOptions;
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  return resolved;
}

/** The unsuccessful put result before anything was appended. */
export function putRejected(status: PutMessageStatus, reason: string): PutMessageResult {
  return { status, reason, commitLogOffset: -1, queueOffset: -1, size: 0, storeTimestamp: -1, messageId: "" };
}

/** The transaction type bits of a sysFlag say the record gets no consume-queue unit (reference §11.2). */
export function skipsConsumeQueue(sysFlag: number): boolean {
  const type = sysFlag & 0xC;
  return type === 0x4 || type === 0xC;
}

/** Name of the topic the delay scheduler walks; its units carry delivery times, not tag hashes. */
export const SCHEDULE_TOPIC = "SCHEDULE_TOPIC_XXXX";
