/**
 * Delayed delivery (RocketMQ `ScheduleMessageService`): a message with delay level L waits in
 * `SCHEDULE_TOPIC_XXXX` queue L-1, whose consume-queue units carry the delivery time as tags code.
 * One loop per level walks its queue in order and, when a message is due, re-stores it in its
 * `REAL_TOPIC`/`REAL_QID` (the DELAY property is kept, as RocketMQ keeps it, but not applied
 * again). Each level's progress is persisted in
 * `config/delayOffset.json`, so pending delays survive a restart (a crash may redeliver the few
 * messages after the last persisted offset: at-least-once).
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { stringifyFastJson } from "../protocol/fastjson.ts";
import { decodeMessageRecord, MessageProperty, parseProperties } from "../protocol/message.ts";
import { ConfigFileWriter, readConfigFile } from "./config_file.ts";
import type { InnerMessage } from "./inner_message.ts";
import { type MessageStore, PutMessageStatus } from "./store/store.ts";
import { SCHEDULE_TOPIC } from "./topics.ts";

/** Units read per pass of one level. */
const UNITS_PER_PASS = 64;
/** Pause after a failed re-store before trying again (RocketMQ: 10 s). */
const RETRY_AFTER_FAILURE_MS = 10_000;
/** Longest sleep of an idle level; arrivals wake it earlier. */
const IDLE_SLEEP_MS = 60_000;

/** Re-stores a due message; returns the put status. */
export type Redeliver = (message: InnerMessage) => Promise<PutMessageStatus>;

/** The per-level delay loops. */
export class ScheduleService {
  readonly #store: MessageStore;
  readonly #levels: readonly number[];
  readonly #redeliver: Redeliver;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #offsets = new Map<number, number>();
  readonly #timers = new Map<number, { timer: ReturnType<typeof setTimeout>; atMs: number }>();
  readonly #running = new Set<number>();
  readonly #writer: ConfigFileWriter;
  #closed = false;

  constructor(options: {
    store: MessageStore;
    delayLevels: readonly number[];
    redeliver: Redeliver;
    path: string;
    log: Logger;
    now?: () => number;
  }) {
    this.#store = options.store;
    this.#levels = options.delayLevels;
    this.#redeliver = options.redeliver;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#writer = new ConfigFileWriter(options.path, () => this.encode(), options.log);
  }

  /** Loads delayOffset.json. */
  async load(path: string): Promise<void> {
    const data = await readConfigFile(path, this.#log) as { offsetTable?: Record<string, unknown> } | undefined;
    for (const [level, offset] of Object.entries(data?.offsetTable ?? {})) {
      const n = Number(offset);
      if (Number.isSafeInteger(n) && n >= 0) this.#offsets.set(Number(level), n);
    }
  }

  /** Starts every level's loop. */
  start(): void {
    for (let level = 1; level <= this.#levels.length; level++) this.#wakeAt(level, this.#now());
  }

  /** Called on dispatch of a SCHEDULE_TOPIC_XXXX unit: wakes its level by its delivery time. */
  onArrival(queueId: number, deliverAtMs: number): void {
    this.#wakeAt(queueId + 1, deliverAtMs);
  }

  /** Level → next queue offset to deliver. */
  offsets(): Map<number, number> {
    return new Map(this.#offsets);
  }

  /** delayOffset.json content. */
  encode(): string {
    return stringifyFastJson({ offsetTable: new Map([...this.#offsets].sort((a, b) => a[0] - b[0])) });
  }

  /** Writes delayOffset.json if changed. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /** Stops the loops and persists progress. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#writer.flush();
  }

  #wakeAt(level: number, atMs: number): void {
    if (this.#closed || level < 1 || level > this.#levels.length) return;
    const existing = this.#timers.get(level);
    if (existing && existing.atMs <= atMs) return;
    if (existing) clearTimeout(existing.timer);
    const delay = Math.max(0, Math.min(atMs - this.#now(), IDLE_SLEEP_MS));
    const timer = setTimeout(() => {
      this.#timers.delete(level);
      void this.#pass(level);
    }, delay);
    this.#timers.set(level, { timer, atMs });
  }

  async #pass(level: number): Promise<void> {
    if (this.#closed || this.#running.has(level)) return;
    this.#running.add(level);
    try {
      this.#wakeAt(level, await this.#deliverDue(level));
    } catch (error) {
      this.#log.error("Delay level {level} failed: {error}", { level, error: (error as Error).stack ?? String(error) });
      this.#wakeAt(level, this.#now() + RETRY_AFTER_FAILURE_MS);
    } finally {
      this.#running.delete(level);
    }
  }

  /** Delivers due messages of one level; returns when to look again. */
  async #deliverDue(level: number): Promise<number> {
    const queueId = level - 1;
    const delayMs = this.#levels[queueId];
    while (!this.#closed) {
      let offset = this.#offsets.get(level) ?? 0;
      const min = this.#store.minQueueOffset(SCHEDULE_TOPIC, queueId);
      if (offset < min) offset = min;
      const units = this.#store.getQueueUnits(SCHEDULE_TOPIC, queueId, offset, UNITS_PER_PASS);
      if (units.length === 0) return this.#now() + IDLE_SLEEP_MS;
      for (const unit of units) {
        const now = this.#now();
        // A delivery time beyond now + delay means the clock moved back: deliver now (RocketMQ does the same).
        const deliverAt = unit.tagsCode > now + delayMs ? now : unit.tagsCode;
        if (deliverAt > now) return deliverAt;
        const record = await this.#store.readRecord(unit.commitLogOffset);
        if (record) {
          const status = await this.#redeliver(this.#innerOf(record));
          if (status !== PutMessageStatus.PUT_OK && status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
            if (status === PutMessageStatus.MESSAGE_ILLEGAL || status === PutMessageStatus.PROPERTIES_SIZE_EXCEEDED) {
              this.#log.error("Dropping delayed message at {offset}: {status}", {
                offset: unit.commitLogOffset,
                status,
              });
            } else {
              this.#log.warn("Cannot deliver delayed message at {offset}: {status}; retrying", {
                offset: unit.commitLogOffset,
                status,
              });
              return this.#now() + RETRY_AFTER_FAILURE_MS;
            }
          }
        }
        this.#offsets.set(level, unit.queueOffset + 1);
        this.#writer.markDirty();
      }
    }
    return this.#now() + IDLE_SLEEP_MS;
  }

  #innerOf(record: Uint8Array): InnerMessage {
    const stored = decodeMessageRecord(record, 0, { copyBody: true });
    const properties = parseProperties(stored.properties);
    const topic = properties.get(MessageProperty.REAL_TOPIC) ?? stored.topic;
    const queueId = Number(properties.get(MessageProperty.REAL_QID) ?? "0");
    return {
      topic,
      queueId: Number.isInteger(queueId) ? queueId : 0,
      flag: stored.flag,
      sysFlag: stored.sysFlag,
      bornTimestamp: stored.bornTimestamp,
      bornHost: stored.bornHost,
      reconsumeTimes: stored.reconsumeTimes,
      preparedTransactionOffset: stored.preparedTransactionOffset,
      body: stored.body,
      properties,
      delayDone: true,
      // Re-stored messages never wait for a flush (RocketMQ sets waitStoreMsgOK false).
      waitForFlush: false,
    };
  }
}
