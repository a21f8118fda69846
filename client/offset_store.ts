/**
 * Consumer offsets: where each queue's consumption stands, kept in memory and persisted
 * (Java's `OffsetStore`).
 *
 * - {@linkcode RemoteOffsetStore} (clustering): the broker keeps the group's offsets.
 *   `persistAll` sends UPDATE_CONSUMER_OFFSET (oneway on the 5 s timer, awaited at shutdown);
 *   reading "from store" asks with QUERY_CONSUMER_OFFSET.
 * - {@linkcode LocalFileOffsetStore} (broadcasting): every member keeps its own offsets in
 *   `<dir>/<clientId>/<group>/offsets.json`, Java's file layout, written to a temporary file
 *   and renamed, with the previous version kept as `.bak` and read when the file is damaged.
 *
 * Offsets read back as Java does: `-1` means "no offset stored", `-2` "could not read".
 *
 * Runtime-neutral: files through `node:fs/promises`.
 *
 * @module
 */

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseFastJson, stringifyFastJson } from "../protocol/fastjson.ts";
import { errorText, type Logger } from "./_log.ts";
import { mapEntries, type MessageQueue, queueJson, queueKey, readQueue } from "./message.ts";

/** No offset is stored for the queue. */
export const OFFSET_NONE = -1;
/** The offset could not be read (broker unreachable, file unreadable). */
export const OFFSET_ERROR = -2;

/** Where `read()` looks. */
export type ReadOffsetType = "memory" | "store" | "memoryThenStore";

/** A consumer group's offsets. */
export interface OffsetStore {
  /** Loads persisted offsets (local store), a no-op for the remote store. */
  load(): Promise<void>;
  /** Sets a queue's offset in memory; with `increaseOnly`, never moves it back. */
  update(queue: MessageQueue, queueOffset: number, increaseOnly: boolean): void;
  /** Reads a queue's offset: ≥ 0, or {@linkcode OFFSET_NONE} / {@linkcode OFFSET_ERROR}. */
  read(queue: MessageQueue, type: ReadOffsetType): Promise<number>;
  /** Persists one queue's offset (awaited). */
  persist(queue: MessageQueue): Promise<void>;
  /**
   * Persists the offsets of `queues` and forgets other queues. `final` (shutdown) waits for the
   * broker to acknowledge instead of sending oneway.
   */
  persistAll(queues: readonly MessageQueue[], final?: boolean): Promise<void>;
  /** Forgets a queue. */
  remove(queue: MessageQueue): void;
  /** Offsets in memory, optionally of one topic. */
  snapshot(topic?: string): Array<[MessageQueue, number]>;
}

/** The broker calls {@linkcode RemoteOffsetStore} needs. */
export interface OffsetBroker {
  /** The committed offset, or undefined when the broker has none (QUERY_NOT_FOUND). */
  query(queue: MessageQueue): Promise<number | undefined>;
  /** Commits an offset. */
  commit(queue: MessageQueue, queueOffset: number, oneway: boolean): Promise<void>;
}

class MemoryTable {
  readonly #entries = new Map<string, { queue: MessageQueue; queueOffset: number }>();

  update(queue: MessageQueue, queueOffset: number, increaseOnly: boolean): void {
    if (!Number.isSafeInteger(queueOffset) || queueOffset < 0) return;
    const key = queueKey(queue);
    const entry = this.#entries.get(key);
    if (!entry) this.#entries.set(key, { queue, queueOffset });
    else if (!increaseOnly || queueOffset > entry.queueOffset) entry.queueOffset = queueOffset;
  }

  get(queue: MessageQueue): number | undefined {
    return this.#entries.get(queueKey(queue))?.queueOffset;
  }

  remove(queue: MessageQueue): void {
    this.#entries.delete(queueKey(queue));
  }

  entries(topic?: string): Array<[MessageQueue, number]> {
    const out: Array<[MessageQueue, number]> = [];
    for (const { queue, queueOffset } of this.#entries.values()) {
      if (topic === undefined || queue.topic === topic) out.push([queue, queueOffset]);
    }
    return out;
  }
}

/**
 * Offsets kept by the broker (clustering consumers).
 *
 * @example
 * ```ts
 * import { RemoteOffsetStore } from "./offset_store.ts";
 *
 * const committed = new Map<number, number>();
 * const store = new RemoteOffsetStore({
 *   query: (q) => Promise.resolve(committed.get(q.queueId)),
 *   commit: (q, offset) => Promise.resolve(void committed.set(q.queueId, offset)),
 * });
 * const queue = { topic: "t", brokerName: "b", queueId: 0 };
 * console.assert(await store.read(queue, "store") === -1);
 * store.update(queue, 7, true);
 * await store.persistAll([queue], true);
 * console.assert(committed.get(0) === 7);
 * ```
 */
export class RemoteOffsetStore implements OffsetStore {
  readonly #broker: OffsetBroker;
  readonly #table = new MemoryTable();
  readonly #logger?: Logger;

  constructor(broker: OffsetBroker, logger?: Logger) {
    this.#broker = broker;
    this.#logger = logger;
  }

  load(): Promise<void> {
    return Promise.resolve();
  }

  update(queue: MessageQueue, queueOffset: number, increaseOnly: boolean): void {
    this.#table.update(queue, queueOffset, increaseOnly);
  }

  async read(queue: MessageQueue, type: ReadOffsetType): Promise<number> {
    if (type !== "store") {
      const memory = this.#table.get(queue);
      if (memory !== undefined) return memory;
      if (type === "memory") return OFFSET_NONE;
    }
    try {
      const stored = await this.#broker.query(queue);
      if (stored === undefined) return OFFSET_NONE;
      this.#table.update(queue, stored, false);
      return stored;
    } catch (error) {
      this.#logger?.warn("Cannot read consumer offset from broker", { queue, error: errorText(error) });
      return OFFSET_ERROR;
    }
  }

  async persist(queue: MessageQueue): Promise<void> {
    const queueOffset = this.#table.get(queue);
    if (queueOffset !== undefined) await this.#broker.commit(queue, queueOffset, false);
  }

  async persistAll(queues: readonly MessageQueue[], final = false): Promise<void> {
    const keep = new Set(queues.map(queueKey));
    await Promise.all(
      this.#table.entries().map(async ([queue, queueOffset]) => {
        if (!keep.has(queueKey(queue))) {
          this.#table.remove(queue);
          return;
        }
        try {
          await this.#broker.commit(queue, queueOffset, !final);
        } catch (error) {
          this.#logger?.warn("Cannot commit consumer offset", { queue, queueOffset, error: errorText(error) });
        }
      }),
    );
  }

  remove(queue: MessageQueue): void {
    this.#table.remove(queue);
  }

  snapshot(topic?: string): Array<[MessageQueue, number]> {
    return this.#table.entries(topic);
  }
}

/** Java's default root of local offset files: `~/.rocketmq_offsets`. */
export function defaultOffsetStoreDir(): string {
  try {
    return join(homedir(), ".rocketmq_offsets");
  } catch {
    // No permission to read the home directory: fall back to the working directory.
    return ".rocketmq_offsets";
  }
}

/** Options for {@linkcode LocalFileOffsetStore}. */
export interface LocalFileOffsetStoreOptions {
  /** Root directory (default `~/.rocketmq_offsets`). */
  dir?: string;
  clientId: string;
  group: string;
  logger?: Logger;
}

/** Parses an `OffsetSerializeWrapper` file (fastjson, MessageQueue object keys). */
export function parseOffsetFile(text: string): Array<[MessageQueue, number]> {
  const parsed = parseFastJson(text) as { offsetTable?: unknown };
  const out: Array<[MessageQueue, number]> = [];
  for (const [key, value] of mapEntries(parsed?.offsetTable)) {
    const queue = readQueue(key);
    const queueOffset = Number(value);
    if (queue && Number.isSafeInteger(queueOffset)) out.push([queue, queueOffset]);
  }
  return out;
}

/** Writes an `OffsetSerializeWrapper` file body. */
export function formatOffsetFile(entries: Array<[MessageQueue, number]>): string {
  const table = new Map<Record<string, unknown>, number>();
  for (const [queue, queueOffset] of entries) table.set(queueJson(queue), queueOffset);
  return stringifyFastJson({ offsetTable: table });
}

/**
 * Offsets in a local file (broadcasting consumers).
 *
 * @example
 * ```ts ignore
 * import { LocalFileOffsetStore } from "./offset_store.ts";
 *
 * const store = new LocalFileOffsetStore({ dir: "/tmp/offsets", clientId: "127.0.0.1@DEFAULT", group: "g" });
 * await store.load();
 * ```
 */
export class LocalFileOffsetStore implements OffsetStore {
  /** Path of the offsets file. */
  readonly path: string;
  readonly #dir: string;
  readonly #table = new MemoryTable();
  readonly #logger?: Logger;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: LocalFileOffsetStoreOptions) {
    this.#dir = join(options.dir ?? defaultOffsetStoreDir(), options.clientId, options.group);
    this.path = join(this.#dir, "offsets.json");
    this.#logger = options.logger;
  }

  async load(): Promise<void> {
    for (const [queue, queueOffset] of await this.#readFile()) this.#table.update(queue, queueOffset, false);
  }

  update(queue: MessageQueue, queueOffset: number, increaseOnly: boolean): void {
    this.#table.update(queue, queueOffset, increaseOnly);
  }

  async read(queue: MessageQueue, type: ReadOffsetType): Promise<number> {
    if (type !== "store") {
      const memory = this.#table.get(queue);
      if (memory !== undefined) return memory;
      if (type === "memory") return OFFSET_NONE;
    }
    try {
      const key = queueKey(queue);
      const found = (await this.#readFile()).find(([q]) => queueKey(q) === key);
      if (!found) return OFFSET_NONE;
      this.#table.update(queue, found[1], false);
      return found[1];
    } catch (error) {
      this.#logger?.warn("Cannot read local offsets", { path: this.path, error: errorText(error) });
      return OFFSET_ERROR;
    }
  }

  persist(_queue: MessageQueue): Promise<void> {
    return this.#write();
  }

  persistAll(queues: readonly MessageQueue[]): Promise<void> {
    if (queues.length === 0) return this.#writing;
    return this.#write();
  }

  remove(_queue: MessageQueue): void {
    // Java keeps broadcast offsets of unassigned queues too: every queue is always assigned.
  }

  snapshot(topic?: string): Array<[MessageQueue, number]> {
    return this.#table.entries(topic);
  }

  /** Writes the table: temp file, previous version to `.bak`, rename. Writes are serialized. */
  #write(): Promise<void> {
    const text = formatOffsetFile(this.#table.entries());
    this.#writing = this.#writing.then(async () => {
      await mkdir(this.#dir, { recursive: true });
      const tmp = this.path + ".tmp";
      await writeFile(tmp, text);
      try {
        await rename(this.path, this.path + ".bak");
      } catch (error) {
        if ((error as { code?: string }).code !== "ENOENT") throw error;
      }
      await rename(tmp, this.path);
    }).catch((error) => {
      this.#logger?.error("Cannot persist local offsets", { path: this.path, error: errorText(error) });
    });
    return this.#writing;
  }

  async #readFile(): Promise<Array<[MessageQueue, number]>> {
    for (const path of [this.path, this.path + ".bak"]) {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") continue;
        throw error;
      }
      try {
        return parseOffsetFile(text);
      } catch (error) {
        this.#logger?.warn("Local offsets file is damaged; trying the backup", { path, error: errorText(error) });
      }
    }
    return [];
  }
}

/** What {@linkcode offsetStoreFor} needs from the client instance. */
export interface OffsetStoreHost {
  clientId: string;
  logger: Logger;
  queryConsumerOffset(group: string, queue: MessageQueue): Promise<number | undefined>;
  updateConsumerOffset(group: string, queue: MessageQueue, queueOffset: number, oneway: boolean): Promise<void>;
}

/**
 * The offset store of a consumer: local files for broadcasting (every member keeps its own
 * progress), the broker for clustering (the group shares it).
 */
export function offsetStoreFor(
  model: "CLUSTERING" | "BROADCASTING",
  host: OffsetStoreHost,
  group: string,
  offsetStoreDir: string | undefined,
): OffsetStore {
  if (model === "BROADCASTING") {
    return new LocalFileOffsetStore({ dir: offsetStoreDir, clientId: host.clientId, group, logger: host.logger });
  }
  return new RemoteOffsetStore({
    query: (queue) => host.queryConsumerOffset(group, queue),
    commit: (queue, queueOffset, oneway) => host.updateConsumerOffset(group, queue, queueOffset, oneway),
  }, host.logger);
}
