/**
 * Topic configuration (RocketMQ `TopicConfigManager`): the broker's topics, the system topics it
 * creates at start, auto-creation from the `TBW102` template, retry and DLQ topics, and the
 * data version NameServers use to notice changes. Persisted as `config/topics.json`.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import {
  type DataVersion,
  Perm,
  readDataVersion,
  readTopicConfig,
  type TopicConfig,
  topicConfigWrapperJson,
} from "../protocol/bodies.ts";
import { stringifyFastJson } from "../protocol/fastjson.ts";
import { topicBytesMax } from "../protocol/limits.ts";
import type { BrokerConfig } from "./config.ts";
import { ConfigFileWriter, readConfigFile } from "./config_file.ts";

/** The template topic clients name as `defaultTopic` when their topic has no route. */
export const AUTO_CREATE_TOPIC_KEY_TOPIC = "TBW102";
export const SCHEDULE_TOPIC = "SCHEDULE_TOPIC_XXXX";
export const BENCHMARK_TOPIC = "BenchmarkTest";
export const SELF_TEST_TOPIC = "SELF_TEST_TOPIC";
export const OFFSET_MOVED_EVENT = "OFFSET_MOVED_EVENT";
export const TRANS_HALF_TOPIC = "RMQ_SYS_TRANS_HALF_TOPIC";
export const TRANS_OP_HALF_TOPIC = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
export const TRANS_CHECK_MAX_TIME_TOPIC = "TRANS_CHECK_MAX_TIME_TOPIC";
export const RETRY_GROUP_TOPIC_PREFIX = "%RETRY%";
export const DLQ_GROUP_TOPIC_PREFIX = "%DLQ%";
/** Queues of a group's DLQ (`MixAll.DLQ_NUMS_PER_GROUP`). */
export const DLQ_NUMS_PER_GROUP = 1;
/** Topics whose names start like this are system topics. */
export const SYSTEM_TOPIC_PREFIX = "rmq_sys_";

/** Topics producers may not send to. */
export const NOT_ALLOWED_SEND_TOPICS = new Set([
  SCHEDULE_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
  TRANS_CHECK_MAX_TIME_TOPIC,
  SELF_TEST_TOPIC,
  OFFSET_MOVED_EVENT,
]);

const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;

/** Why `topic` is not a valid name, or undefined when it is (RocketMQ `TopicValidator`). */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.trim() === "") return "The specified topic is blank.";
  if (!TOPIC_PATTERN.test(topic)) {
    return `The specified topic[${topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  }
  // The pattern admits ASCII only, so the UTF-8 length is the string length (no encode per send).
  if (topic.length > topicBytesMax) {
    return `The specified topic[${topic}] is longer than topic max length ${topicBytesMax}.`;
  }
  return undefined;
}

/** The retry topic of a consumer group. */
export function retryTopicOf(group: string): string {
  return RETRY_GROUP_TOPIC_PREFIX + group;
}

/** The dead-letter topic of a consumer group. */
export function dlqTopicOf(group: string): string {
  return DLQ_GROUP_TOPIC_PREFIX + group;
}

/** The topics RocketMQ reserves by name (`TopicValidator.getSystemTopicSet`, GET_SYSTEM_TOPIC_LIST_FROM_BROKER). */
export function systemTopicNames(config: BrokerConfig): string[] {
  return [
    AUTO_CREATE_TOPIC_KEY_TOPIC,
    SCHEDULE_TOPIC,
    BENCHMARK_TOPIC,
    TRANS_HALF_TOPIC,
    TRANS_OP_HALF_TOPIC,
    TRANS_CHECK_MAX_TIME_TOPIC,
    SELF_TEST_TOPIC,
    OFFSET_MOVED_EVENT,
    config.msgTraceTopicName,
    config.brokerClusterName,
    config.brokerName,
    `${config.brokerClusterName}_REPLY_TOPIC`,
  ];
}

/** Whether a topic is one RocketMQ reserves (cannot be created or deleted by admins). */
export function isSystemTopic(topic: string, config: BrokerConfig): boolean {
  return topic.startsWith(SYSTEM_TOPIC_PREFIX) || systemTopicNames(config).includes(topic);
}

/** A full topic config with RocketMQ's `TopicConfig` defaults. */
export function newTopicConfig(topicName: string, fields: Partial<TopicConfig> = {}): TopicConfig {
  return {
    topicName,
    readQueueNums: 16,
    writeQueueNums: 16,
    perm: Perm.READ | Perm.WRITE,
    topicFilterType: "SINGLE_TAG",
    topicSysFlag: 0,
    order: false,
    ...fields,
  };
}

/** Topics a broker may hold: a bound on memory and registration size. */
export const TOPICS_MAX = 100_000;

/** The broker's topic table. */
export class TopicManager {
  readonly #table = new Map<string, TopicConfig>();
  readonly #config: BrokerConfig;
  readonly #log: Logger;
  readonly #writer: ConfigFileWriter;
  readonly #onChange: () => void;
  #dataVersion: DataVersion;
  readonly #now: () => number;

  constructor(options: { config: BrokerConfig; path: string; log: Logger; onChange: () => void; now?: () => number }) {
    this.#config = options.config;
    this.#log = options.log;
    this.#onChange = options.onChange;
    this.#now = options.now ?? Date.now;
    this.#dataVersion = { counter: 0, timestamp: this.#now() };
    this.#writer = new ConfigFileWriter(options.path, () => this.encode(), options.log);
  }

  /** Loads topics.json, then makes sure the system topics exist. */
  async load(path: string): Promise<void> {
    const data = await readConfigFile(path, this.#log) as Record<string, unknown> | undefined;
    if (data?.topicConfigTable && typeof data.topicConfigTable === "object") {
      for (const [name, raw] of Object.entries(data.topicConfigTable as Record<string, unknown>)) {
        this.#table.set(name, readTopicConfig(raw, name));
      }
      if (data.dataVersion) this.#dataVersion = readDataVersion(data.dataVersion);
    }
    this.#createSystemTopics();
    this.#bump();
    await this.#writer.flush();
  }

  #createSystemTopics(): void {
    const c = this.#config;
    const inherit = Perm.INHERIT;
    const system: TopicConfig[] = [
      newTopicConfig(SELF_TEST_TOPIC, { readQueueNums: 1, writeQueueNums: 1 }),
      newTopicConfig(BENCHMARK_TOPIC, { readQueueNums: 1024, writeQueueNums: 1024 }),
      newTopicConfig(c.brokerClusterName, { perm: c.clusterTopicEnable ? inherit | Perm.READ | Perm.WRITE : inherit }),
      newTopicConfig(c.brokerName, {
        readQueueNums: 1,
        writeQueueNums: 1,
        perm: c.brokerTopicEnable ? inherit | Perm.READ | Perm.WRITE : inherit,
      }),
      newTopicConfig(OFFSET_MOVED_EVENT, { readQueueNums: 1, writeQueueNums: 1 }),
      newTopicConfig(SCHEDULE_TOPIC, { readQueueNums: 18, writeQueueNums: 18 }),
      newTopicConfig(`${c.brokerClusterName}_REPLY_TOPIC`, { readQueueNums: 1, writeQueueNums: 1 }),
    ];
    if (c.autoCreateTopicEnable) {
      system.push(newTopicConfig(AUTO_CREATE_TOPIC_KEY_TOPIC, {
        readQueueNums: c.defaultTopicQueueNums,
        writeQueueNums: c.defaultTopicQueueNums,
        perm: inherit | Perm.READ | Perm.WRITE,
      }));
    } else {
      this.#table.delete(AUTO_CREATE_TOPIC_KEY_TOPIC);
    }
    if (c.traceTopicEnable) system.push(newTopicConfig(c.msgTraceTopicName, { readQueueNums: 1, writeQueueNums: 1 }));
    for (const topic of system) this.#table.set(topic.topicName, topic);
  }

  /** The topic's config, or undefined. */
  get(topic: string): TopicConfig | undefined {
    return this.#table.get(topic);
  }

  /** All topics. */
  all(): IterableIterator<TopicConfig> {
    return this.#table.values();
  }

  get size(): number {
    return this.#table.size;
  }

  get dataVersion(): DataVersion {
    return { ...this.#dataVersion };
  }

  /**
   * Creates or replaces a topic (UPDATE_AND_CREATE_TOPIC).
   *
   * @throws {RangeError} when the broker already holds {@linkcode TOPICS_MAX} topics.
   */
  upsert(config: TopicConfig): void {
    if (!this.#table.has(config.topicName) && this.#table.size >= TOPICS_MAX) {
      throw new RangeError(
        `Cannot create topic "${config.topicName}": broker holds ${this.#table.size} topics, limit is ${TOPICS_MAX}`,
      );
    }
    this.#table.set(config.topicName, config);
    this.#log.info("Topic {topic} updated: {read}/{write} queues, perm {perm}", {
      topic: config.topicName,
      read: config.readQueueNums,
      write: config.writeQueueNums,
      perm: config.perm,
    });
    this.#changed();
  }

  /** Deletes a topic; returns whether it existed. */
  delete(topic: string): boolean {
    if (!this.#table.delete(topic)) return false;
    this.#log.info("Topic {topic} deleted", { topic });
    this.#changed();
    return true;
  }

  /**
   * Creates `topic` from the template `defaultTopic` when a producer sends to an unknown topic
   * (RocketMQ `createTopicInSendMessageMethod`). Returns the config, or undefined when the
   * template is missing or not inheritable.
   */
  createFromTemplate(
    topic: string,
    defaultTopic: string,
    clientQueueNums: number,
    topicSysFlag: number,
  ): TopicConfig | undefined {
    const existing = this.#table.get(topic);
    if (existing) return existing;
    const template = this.#table.get(defaultTopic);
    if (!template) return undefined;
    let templatePerm = template.perm;
    if (defaultTopic === AUTO_CREATE_TOPIC_KEY_TOPIC && !this.#config.autoCreateTopicEnable) {
      templatePerm = Perm.READ | Perm.WRITE;
    }
    if ((templatePerm & Perm.INHERIT) === 0) return undefined;
    const queueNums = Math.max(1, Math.min(clientQueueNums, template.writeQueueNums));
    const config = newTopicConfig(topic, {
      readQueueNums: queueNums,
      writeQueueNums: queueNums,
      perm: templatePerm & ~Perm.INHERIT,
      topicFilterType: template.topicFilterType,
      topicSysFlag,
    });
    this.upsert(config);
    return config;
  }

  /** Creates a retry or DLQ topic if missing (RocketMQ `createTopicInSendMessageBackMethod`). */
  ensure(topic: string, queueNums: number, perm: number, topicSysFlag = 0): TopicConfig {
    const existing = this.#table.get(topic);
    if (existing) return existing;
    const config = newTopicConfig(topic, { readQueueNums: queueNums, writeQueueNums: queueNums, perm, topicSysFlag });
    this.upsert(config);
    return config;
  }

  /**
   * Bumps the data version without a topic change, so NameServers take the next registration's
   * topic table (after `brokerPermission` changes what it carries), and registers soon.
   */
  touch(): void {
    this.#changed();
  }

  /** topics.json content (TopicConfigSerializeWrapper). */
  encode(): string {
    return stringifyFastJson(topicConfigWrapperJson({ dataVersion: this.#dataVersion, topicConfigTable: this.#table }));
  }

  /** Writes topics.json if changed. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  #bump(): void {
    this.#dataVersion = { counter: this.#dataVersion.counter + 1, timestamp: this.#now() };
    this.#writer.markDirty();
  }

  #changed(): void {
    this.#bump();
    void this.#writer.flush();
    this.#onChange();
  }
}
