/**
 * A message store in memory, with the file store's interface and semantics (statuses, offsets,
 * byte-identical records), for tests and `dev` runs where durability does not matter.
 *
 * Commit-log offsets are contiguous (there are no segments, so no blank records). Memory is
 * bounded by `bytesMax`: past it the oldest records are dropped, as retention would.
 *
 * @module
 */

import { assert } from "./_assert.ts";
import {
  defaultKeys,
  offsetMessageId,
  parseProperties,
  type PreparedRecord,
  RecordEncoder,
  type RecordProblem,
  scanRecord,
  writeRecord,
} from "./_record.ts";
import {
  type Clock,
  type DispatchEvent,
  type GetMessagesOptions,
  type GetMessagesResult,
  GetMessageStatus,
  type MessageStore,
  type PutMessageResult,
  type PutMessagesResult,
  PutMessageStatus,
  putRejected,
  type QueryByKeyOptions,
  type QueryByKeyResult,
  type QueueTimeBounds,
  type QueueUnit,
  skipsConsumeQueue,
  type StoreBatch,
  type StoreMessage,
  type StoreRuntimeInfo,
  systemClock,
} from "./store.ts";

/** Options of {@linkcode MemoryMessageStore}. */
export interface MemoryStoreOptions {
  /** Largest record. Default 4 MiB. */
  maxMessageSize?: number;
  /** Record bytes kept; the oldest are dropped past it. Default 256 MiB. */
  bytesMax?: number;
  clock?: Clock;
}

interface Unit extends QueueUnit {
  storeTimestamp: number;
}

interface MemoryQueue {
  /** units[i] has queue offset `base + i`. */
  units: Unit[];
  base: number;
  min: number;
}

/** Units one read scans at most (same as the file store). */
const unitsScannedLimit = 16384;
const unitsScannedDefault = 800;
/** Offsets remembered per index key; older ones are forgotten first. */
const offsetsPerKeyMax = 4096;
/** Keys indexed; past it the oldest key is forgotten. */
const indexKeysMax = 1_000_000;
/** Dispatch listeners, as in the file store. */
const dispatchListenersMax = 64;

/** The in-memory store. */
export class MemoryMessageStore implements MessageStore {
  readonly bytesMax: number;
  #encoder: RecordEncoder;
  #clock: Clock;
  #records = new Map<number, Uint8Array>();
  /** Record offsets in append order, for dropping the oldest. */
  #order: number[] = [];
  #orderHead = 0;
  #minOffset = 0;
  #maxOffset = 0;
  #bytes = 0;
  #queues = new Map<string, Map<number, MemoryQueue>>();
  #keys = new Map<string, number[]>();
  #listeners = new Set<(event: DispatchEvent) => void>();
  #closed = false;
  #putCount = 0;
  #lastIndexTimestamp = 0;
  #lastIndexOffset = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#encoder = new RecordEncoder(options.maxMessageSize ?? 4 * 1024 * 1024);
    this.#clock = options.clock ?? systemClock;
    this.bytesMax = options.bytesMax ?? 256 * 1024 * 1024;
    assert(this.bytesMax >= this.#encoder.maxMessageSize, "bytesMax must hold at least one record");
  }

  #queue(topic: string, queueId: number, create: boolean): MemoryQueue | undefined {
    let queues = this.#queues.get(topic);
    if (!queues) {
      if (!create) return undefined;
      queues = new Map();
      this.#queues.set(topic, queues);
    }
    let q = queues.get(queueId);
    if (!q && create) {
      q = { units: [], base: 0, min: 0 };
      queues.set(queueId, q);
    }
    return q;
  }

  #refusal(): PutMessageResult | undefined {
    return this.#closed ? putRejected(PutMessageStatus.SERVICE_NOT_AVAILABLE, "The store is closed") : undefined;
  }

  #problem(problem: RecordProblem): PutMessageResult {
    const status = problem.problem === "properties"
      ? PutMessageStatus.PROPERTIES_SIZE_EXCEEDED
      : PutMessageStatus.MESSAGE_ILLEGAL;
    return putRejected(status, `Cannot append message: ${problem.reason}`);
  }

  #append(
    message: StoreMessage,
    prepared: PreparedRecord,
    queueOffset: number,
    storeTimestamp: number,
  ): { offset: number; size: number } {
    const record = new Uint8Array(prepared.size);
    const offset = this.#maxOffset;
    writeRecord(record, new DataView(record.buffer), 0, message, prepared, queueOffset, offset, storeTimestamp);
    this.#records.set(offset, record);
    this.#order.push(offset);
    this.#maxOffset += record.length;
    this.#bytes += record.length;
    this.#putCount++;
    return { offset, size: record.length };
  }

  #dispatch(
    message: { topic: string; queueId: number; sysFlag: number },
    tagsCode: number,
    keys: readonly string[],
    queueOffset: number,
    offset: number,
    size: number,
    storeTimestamp: number,
  ): void {
    if ((message.sysFlag & 0xC) !== 0xC) {
      for (const key of keys) {
        if (key.length === 0) continue;
        const k = `${message.topic}#${key}`;
        let list = this.#keys.get(k);
        if (!list) {
          if (this.#keys.size >= indexKeysMax) this.#keys.delete(this.#keys.keys().next().value!);
          list = [];
          this.#keys.set(k, list);
        }
        if (list.length >= offsetsPerKeyMax) list.shift();
        list.push(offset);
        this.#lastIndexOffset = offset;
        this.#lastIndexTimestamp = storeTimestamp;
      }
    }
    if (skipsConsumeQueue(message.sysFlag)) return;
    const q = this.#queue(message.topic, message.queueId, true)!;
    q.units.push({ queueOffset, commitLogOffset: offset, size, tagsCode, storeTimestamp });
    const event: DispatchEvent = {
      topic: message.topic,
      queueId: message.queueId,
      queueOffset,
      tagsCode,
      storeTimestamp,
    };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is the listener's business; the put has succeeded.
      }
    }
  }

  #trim(): void {
    if (this.#bytes <= this.bytesMax) return;
    while (this.#bytes > this.bytesMax && this.#orderHead < this.#order.length - 1) {
      const offset = this.#order[this.#orderHead++];
      const record = this.#records.get(offset)!;
      this.#records.delete(offset);
      this.#bytes -= record.length;
      this.#minOffset = this.#order[this.#orderHead];
    }
    if (this.#orderHead > 4096 && this.#orderHead * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#orderHead);
      this.#orderHead = 0;
    }
    for (const queues of this.#queues.values()) {
      for (const q of queues.values()) {
        let drop = 0;
        while (drop < q.units.length && q.units[drop].commitLogOffset < this.#minOffset) drop++;
        if (drop > 0) {
          q.units.splice(0, drop);
          q.base += drop;
        }
        q.min = q.base;
      }
    }
  }

  #nextQueueOffset(topic: string, queueId: number): number {
    const q = this.#queue(topic, queueId, false);
    return q ? q.base + q.units.length : 0;
  }

  putMessage(message: StoreMessage): Promise<PutMessageResult> {
    const refusal = this.#refusal();
    if (refusal) return Promise.resolve(refusal);
    const prepared = this.#encoder.prepare(message, false);
    if ("problem" in prepared) return Promise.resolve(this.#problem(prepared));
    const noUnit = skipsConsumeQueue(message.sysFlag);
    const queueOffset = noUnit ? 0 : this.#nextQueueOffset(message.topic, message.queueId);
    const storeTimestamp = this.#clock.now();
    const { offset, size } = this.#append(message, prepared, queueOffset, storeTimestamp);
    this.#dispatch(message, message.tagsCode, message.keys, queueOffset, offset, size, storeTimestamp);
    this.#trim();
    return Promise.resolve({
      status: PutMessageStatus.PUT_OK,
      reason: "",
      commitLogOffset: offset,
      queueOffset,
      size,
      storeTimestamp,
      messageId: offsetMessageId(message.storeHost, offset),
    });
  }

  putMessages(batch: StoreBatch): Promise<PutMessagesResult> {
    const reject = (r: PutMessageResult): Promise<PutMessagesResult> =>
      Promise.resolve({
        status: r.status,
        reason: r.reason,
        commitLogOffset: -1,
        queueOffset: -1,
        size: 0,
        storeTimestamp: -1,
        messageIds: [],
      });
    const refusal = this.#refusal();
    if (refusal) return reject(refusal);
    if (batch.entries.length === 0) {
      return reject(putRejected(PutMessageStatus.MESSAGE_ILLEGAL, "Cannot append an empty batch"));
    }
    if (skipsConsumeQueue(batch.sysFlag)) {
      return reject(
        putRejected(PutMessageStatus.MESSAGE_ILLEGAL, "Cannot append a batch of prepared or rollback messages"),
      );
    }
    const prepared: PreparedRecord[] = [];
    let total = 0;
    for (const entry of batch.entries) {
      const p = this.#encoder.prepare({ ...batch, ...entry, preparedTransactionOffset: 0 }, true);
      if ("problem" in p) return reject(this.#problem(p));
      prepared.push(p);
      total += p.size;
    }
    if (total > this.#encoder.maxMessageSize) {
      return reject(putRejected(
        PutMessageStatus.MESSAGE_ILLEGAL,
        `Cannot append batch: ${batch.entries.length} records are ${total} bytes, limit is ${this.#encoder.maxMessageSize} bytes`,
      ));
    }
    const storeTimestamp = this.#clock.now();
    const firstQueueOffset = this.#nextQueueOffset(batch.topic, batch.queueId);
    const firstOffset = this.#maxOffset;
    const messageIds: string[] = [];
    batch.entries.forEach((entry, i) => {
      const message = { ...batch, ...entry, preparedTransactionOffset: 0 };
      const { offset, size } = this.#append(message, prepared[i], firstQueueOffset + i, storeTimestamp);
      this.#dispatch(message, entry.tagsCode, entry.keys, firstQueueOffset + i, offset, size, storeTimestamp);
      messageIds.push(offsetMessageId(batch.storeHost, offset));
    });
    this.#trim();
    return Promise.resolve({
      status: PutMessageStatus.PUT_OK,
      reason: "",
      commitLogOffset: firstOffset,
      queueOffset: firstQueueOffset,
      size: total,
      storeTimestamp,
      messageIds,
    });
  }

  getMessages(
    topic: string,
    queueId: number,
    queueOffset: number,
    options: GetMessagesOptions,
  ): Promise<GetMessagesResult> {
    const q = this.#queue(topic, queueId, false);
    const result: GetMessagesResult = {
      status: GetMessageStatus.NO_MATCHED_LOGIC_QUEUE,
      records: new Uint8Array(0),
      messageCount: 0,
      nextBeginOffset: 0,
      minOffset: 0,
      maxOffset: 0,
    };
    if (!q) return Promise.resolve(result);
    const min = q.min;
    const max = q.base + q.units.length;
    result.minOffset = min;
    result.maxOffset = max;
    if (max === 0) result.status = GetMessageStatus.NO_MESSAGE_IN_QUEUE;
    else if (queueOffset < min) {
      result.status = GetMessageStatus.OFFSET_TOO_SMALL;
      result.nextBeginOffset = min;
    } else if (queueOffset === max) {
      result.status = GetMessageStatus.OFFSET_OVERFLOW_ONE;
      result.nextBeginOffset = queueOffset;
    } else if (queueOffset > max) {
      result.status = GetMessageStatus.OFFSET_OVERFLOW_BADLY;
      result.nextBeginOffset = max; // 4.9.7 moves a pull past the end to the max, whatever the min
    } else {
      const maxCount = Math.max(1, options.maxCount);
      const unitsMax = Math.min(
        unitsScannedLimit,
        Math.max(1, options.unitsScannedMax ?? Math.max(unitsScannedDefault, maxCount)),
      );
      const end = Math.min(max, queueOffset + unitsMax);
      const picked: Uint8Array[] = [];
      let bytes = 0;
      result.status = GetMessageStatus.NO_MATCHED_MESSAGE;
      let o = queueOffset;
      for (; o < end; o++) {
        const unit = q.units[o - q.base];
        if (picked.length > 0 && (picked.length >= maxCount || bytes + unit.size > options.maxBytes)) break;
        if (options.filter && !options.filter(unit.tagsCode)) continue;
        const record = this.#records.get(unit.commitLogOffset);
        if (!record) {
          if (picked.length === 0) result.status = GetMessageStatus.MESSAGE_WAS_REMOVING;
          continue;
        }
        picked.push(record);
        bytes += record.length;
        result.status = GetMessageStatus.FOUND;
      }
      result.nextBeginOffset = o;
      if (picked.length > 0) {
        const out = new Uint8Array(bytes);
        let at = 0;
        for (const r of picked) {
          out.set(r, at);
          at += r.length;
        }
        result.records = out;
        result.messageCount = picked.length;
      }
    }
    return Promise.resolve(result);
  }

  getQueueUnits(topic: string, queueId: number, fromQueueOffset: number, max: number): QueueUnit[] {
    const q = this.#queue(topic, queueId, false);
    if (!q) return [];
    const from = Math.max(fromQueueOffset, q.min);
    const end = Math.min(q.base + q.units.length, from + Math.min(max, unitsScannedLimit));
    const out: QueueUnit[] = [];
    for (let o = from; o < end; o++) {
      const u = q.units[o - q.base];
      out.push({ queueOffset: u.queueOffset, commitLogOffset: u.commitLogOffset, size: u.size, tagsCode: u.tagsCode });
    }
    return out;
  }

  minQueueOffset(topic: string, queueId: number): number {
    return this.#queue(topic, queueId, false)?.min ?? 0;
  }

  maxQueueOffset(topic: string, queueId: number): number {
    const q = this.#queue(topic, queueId, false);
    return q ? q.base + q.units.length : 0;
  }

  searchQueueOffsetByTimestamp(topic: string, queueId: number, timestampMs: number): Promise<number> {
    const q = this.#queue(topic, queueId, false);
    if (!q || q.units.length === 0) return Promise.resolve(0);
    const time = (o: number) => q.units[o - q.base].storeTimestamp;
    const min = q.min;
    const max = q.base + q.units.length;
    let lo = min;
    let hi = max;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (time(mid) < timestampMs) lo = mid + 1;
      else hi = mid;
    }
    if (lo < max && time(lo) === timestampMs) return Promise.resolve(lo);
    if (lo === min) return Promise.resolve(lo);
    if (lo === max) return Promise.resolve(lo - 1);
    return Promise.resolve(Math.abs(timestampMs - time(lo - 1)) > Math.abs(timestampMs - time(lo)) ? lo : lo - 1);
  }

  earliestMessageStoreTime(): Promise<number> {
    const record = this.#records.get(this.#minOffset);
    if (!record) return Promise.resolve(-1);
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    const at = 48 + ((view.getInt32(36) & 0x10) ? 20 : 8);
    return Promise.resolve(view.getInt32(at) * 4294967296 + view.getUint32(at + 4));
  }

  queueStoreTimeBounds(topic: string, queueId: number): Promise<QueueTimeBounds> {
    const q = this.#queue(topic, queueId, false);
    if (!q || q.units.length === 0) return Promise.resolve({ earliestMs: -1, latestMs: -1 });
    return Promise.resolve({
      earliestMs: q.units[q.min - q.base].storeTimestamp,
      latestMs: q.units[q.units.length - 1].storeTimestamp,
    });
  }

  readRecord(commitLogOffset: number): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#records.get(commitLogOffset)?.slice());
  }

  queryByKey(topic: string, key: string, options: QueryByKeyOptions): Promise<QueryByKeyResult> {
    const offsets = this.#keys.get(`${topic}#${key}`) ?? [];
    const records: Uint8Array[] = [];
    for (let i = offsets.length - 1; i >= 0 && records.length < options.maxCount; i--) {
      const record = this.#records.get(offsets[i]);
      if (!record) continue;
      const scanned = scanRecord(record, new DataView(record.buffer), 0, offsets[i], false);
      if (typeof scanned === "string") continue;
      const seconds = Math.floor(scanned.storeTimestamp / 1000) * 1000;
      if (seconds < Math.floor(options.beginMs / 1000) * 1000 || scanned.storeTimestamp > options.endMs + 999) continue;
      if (defaultKeys(parseProperties(scanned.properties)).includes(key)) records.push(record.slice());
    }
    return Promise.resolve({
      records,
      indexLastUpdateTimestamp: this.#lastIndexTimestamp,
      indexLastUpdatePhyoffset: this.#lastIndexOffset,
    });
  }

  deleteTopic(topic: string): Promise<void> {
    this.#queues.delete(topic);
    return Promise.resolve();
  }

  queues(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const [topic, queues] of this.#queues) out.set(topic, [...queues.keys()].sort((a, b) => a - b));
    return out;
  }

  commitLogMinOffset(): number {
    return this.#minOffset;
  }

  commitLogMaxOffset(): number {
    return this.#maxOffset;
  }

  runtimeInfo(): StoreRuntimeInfo {
    let queueCount = 0;
    for (const queues of this.#queues.values()) queueCount += queues.size;
    return {
      commitLogMinOffset: this.#minOffset,
      commitLogMaxOffset: this.#maxOffset,
      commitLogFlushedOffset: this.#maxOffset,
      commitLogWrittenOffset: this.#maxOffset,
      diskUsedRatio: -1,
      fenced: false,
      fenceReason: "",
      diskFull: false,
      putMessageCount: this.#putCount,
      putMessageBytes: this.#maxOffset,
      pageCacheBusyCount: 0,
      flushDiskTimeoutCount: 0,
      commitLogSyncCount: 0,
      writeBufferBytes: 0,
      consumeQueueCount: queueCount,
    };
  }

  onDispatch(listener: (event: DispatchEvent) => void): () => void {
    assert(this.#listeners.size < dispatchListenersMax, `dispatch listeners must stay under ${dispatchListenersMax}`);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
