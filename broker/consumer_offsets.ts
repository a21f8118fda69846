/**
 * Committed consumer offsets (RocketMQ `ConsumerOffsetManager`), keyed `topic@group` then queue
 * id, persisted as `config/consumerOffset.json` with fastjson's bare integer keys.
 *
 * Commits arrive many times a second (every pull piggy-backs one), so they only mark the table
 * dirty; a timer writes it every `flushConsumerOffsetInterval` and at shutdown. After a crash a
 * group may re-read up to that interval's worth of messages — at-least-once, as in RocketMQ.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { stringifyFastJson } from "../protocol/fastjson.ts";
import { ConfigFileWriter, readConfigFile } from "./config_file.ts";

/** `topic@group` keys held: a bound on memory against clients committing for endless groups. */
export const OFFSET_KEYS_MAX = 1_000_000;

/** The offset table. */
export class ConsumerOffsetManager {
  /** `topic@group` → queueId → offset */
  readonly #table = new Map<string, Map<number, number>>();
  readonly #writer: ConfigFileWriter;
  readonly #log: Logger;

  constructor(options: { path: string; log: Logger }) {
    this.#log = options.log;
    this.#writer = new ConfigFileWriter(options.path, () => this.encode(), options.log);
  }

  /** Loads consumerOffset.json. */
  async load(path: string): Promise<void> {
    const data = await readConfigFile(path, this.#log) as Record<string, unknown> | undefined;
    const table = data?.offsetTable as Record<string, Record<string, unknown>> | undefined;
    if (!table || typeof table !== "object") return;
    for (const [key, queues] of Object.entries(table)) {
      const map = new Map<number, number>();
      for (const [queueId, offset] of Object.entries(queues ?? {})) {
        const n = Number(offset);
        if (Number.isSafeInteger(n) && n >= 0) map.set(Number(queueId), n);
      }
      this.#table.set(key, map);
    }
  }

  /**
   * Records a commit. Negative offsets are ignored: ali-ons reports a queue at offset 0 as -1.
   * Returns false when the table is full.
   */
  commit(group: string, topic: string, queueId: number, offset: number): boolean {
    if (offset < 0 || !Number.isSafeInteger(offset)) return true;
    const key = `${topic}@${group}`;
    let queues = this.#table.get(key);
    if (!queues) {
      if (this.#table.size >= OFFSET_KEYS_MAX) return false;
      this.#table.set(key, queues = new Map());
    }
    if (queues.get(queueId) !== offset) {
      queues.set(queueId, offset);
      this.#writer.markDirty();
    }
    return true;
  }

  /** The committed offset, or -1. */
  query(group: string, topic: string, queueId: number): number {
    return this.#table.get(`${topic}@${group}`)?.get(queueId) ?? -1;
  }

  /** queueId → offset of one group on one topic. */
  queueOffsets(group: string, topic: string): Map<number, number> {
    return new Map(this.#table.get(`${topic}@${group}`) ?? []);
  }

  /** Topics a group has committed on. */
  topicsOfGroup(group: string): string[] {
    const topics: string[] = [];
    for (const key of this.#table.keys()) {
      const at = key.lastIndexOf("@");
      if (key.slice(at + 1) === group) topics.push(key.slice(0, at));
    }
    return topics;
  }

  /** Groups that committed on a topic. */
  groupsOfTopic(topic: string): string[] {
    const groups: string[] = [];
    for (const key of this.#table.keys()) {
      const at = key.lastIndexOf("@");
      if (key.slice(0, at) === topic) groups.push(key.slice(at + 1));
    }
    return groups;
  }

  /** Drops every group's offsets on a topic. */
  removeTopic(topic: string): void {
    for (const group of this.groupsOfTopic(topic)) this.#table.delete(`${topic}@${group}`);
    this.#writer.markDirty();
  }

  /** Drops a group's offsets on every topic. */
  removeGroup(group: string): void {
    for (const topic of this.topicsOfGroup(group)) this.#table.delete(`${topic}@${group}`);
    this.#writer.markDirty();
  }

  /** Copies offsets of `topic` from one group to another (CLONE_GROUP_OFFSET). */
  clone(srcGroup: string, destGroup: string, topic: string): void {
    const queues = this.#table.get(`${topic}@${srcGroup}`);
    if (!queues) return;
    this.#table.set(`${topic}@${destGroup}`, new Map(queues));
    this.#writer.markDirty();
  }

  /** consumerOffset.json content. */
  encode(): string {
    const table: Record<string, Map<number, number>> = {};
    for (const [key, queues] of this.#table) table[key] = queues;
    return stringifyFastJson({ offsetTable: table });
  }

  /** Writes the file if changed. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }
}
