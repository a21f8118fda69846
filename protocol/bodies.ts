/**
 * JSON bodies shared by the NameServer, the broker and clients, with the field names and order
 * fastjson gives them (bean fields alphabetical). Builders return plain objects and `Map`s
 * ready for {@linkcode stringifyFastJson}; readers accept either fastjson or standard JSON.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { parseFastJson, stringifyFastJson } from "./fastjson.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `PermName.java` bits. */
export const Perm = { PRIORITY: 8, READ: 4, WRITE: 2, INHERIT: 1 } as const;

/** `TopicSysFlag.java` bits. */
export const TopicSysFlag = { UNIT: 0x1, UNIT_SUB: 0x2 } as const;

/** The broker id of a master. */
export const MASTER_ID = 0;

/** Topic filter types. */
export type TopicFilterType = "SINGLE_TAG" | "MULTI_TAG";

/** A topic's configuration (`TopicConfig.java`). */
export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
}

/** `DataVersion.java`: bumped on every topic-config change. */
export interface DataVersion {
  counter: number;
  timestamp: number;
}

/** Whether two data versions are the same (Java's `equals`: counter and timestamp). */
export function sameDataVersion(a: DataVersion | undefined, b: DataVersion | undefined): boolean {
  return a !== undefined && b !== undefined && a.counter === b.counter && a.timestamp === b.timestamp;
}

/** A topic config in fastjson's field order. */
export function topicConfigJson(config: TopicConfig): Record<string, unknown> {
  return {
    order: config.order,
    perm: config.perm,
    readQueueNums: config.readQueueNums,
    topicFilterType: config.topicFilterType,
    topicName: config.topicName,
    topicSysFlag: config.topicSysFlag,
    writeQueueNums: config.writeQueueNums,
  };
}

/** `TopicConfigSerializeWrapper.java`. */
export interface TopicConfigWrapper {
  dataVersion: DataVersion;
  topicConfigTable: Map<string, TopicConfig>;
}

/** Encodes a `TopicConfigSerializeWrapper` body object. */
export function topicConfigWrapperJson(wrapper: TopicConfigWrapper): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const [name, config] of wrapper.topicConfigTable) table[name] = topicConfigJson(config);
  return {
    dataVersion: { counter: wrapper.dataVersion.counter, timestamp: wrapper.dataVersion.timestamp },
    topicConfigTable: table,
  };
}

/** Serializes a value as a fastjson body. */
export function encodeJsonBody(value: unknown): Uint8Array {
  return encoder.encode(stringifyFastJson(value));
}

/**
 * Parses a JSON body, fastjson quirks allowed.
 *
 * @throws {ProtocolError} when the body is missing or not JSON.
 */
export function decodeJsonBody(body: Uint8Array | undefined, what: string): unknown {
  if (!body || body.length === 0) throw new ProtocolError(`Cannot read ${what}: the body is empty`);
  const text = decoder.decode(body);
  try {
    return JSON.parse(text);
  } catch {
    try {
      return parseFastJson(text);
    } catch (error) {
      throw new ProtocolError(`Cannot read ${what}: ${(error as Error).message}`);
    }
  }
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Map) {
    throw new ProtocolError(`Cannot read ${what}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

function intOf(value: unknown, what: string, fallback?: number): number {
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new ProtocolError(`Cannot read ${what}: missing`);
  }
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || !Number.isInteger(n)) {
    throw new ProtocolError(`Cannot read ${what}: expected an integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Reads a DataVersion object. */
export function readDataVersion(value: unknown, what = "dataVersion"): DataVersion {
  const o = asObject(value, what);
  return { counter: intOf(o.counter, `${what}.counter`, 0), timestamp: intOf(o.timestamp, `${what}.timestamp`, 0) };
}

/** Reads one TopicConfig object, with Java's defaults for missing fields. */
export function readTopicConfig(value: unknown, name?: string): TopicConfig {
  const o = asObject(value, `topic config ${name ?? ""}`.trim());
  const topicName = typeof o.topicName === "string" ? o.topicName : name;
  if (!topicName) throw new ProtocolError("Cannot read topic config: topicName is missing");
  const filter = o.topicFilterType === "MULTI_TAG" ? "MULTI_TAG" : "SINGLE_TAG";
  return {
    topicName,
    readQueueNums: intOf(o.readQueueNums, `${topicName}.readQueueNums`, 16),
    writeQueueNums: intOf(o.writeQueueNums, `${topicName}.writeQueueNums`, 16),
    perm: intOf(o.perm, `${topicName}.perm`, Perm.READ | Perm.WRITE),
    topicFilterType: filter,
    topicSysFlag: intOf(o.topicSysFlag ?? o.topicSynFlag, `${topicName}.topicSysFlag`, 0),
    order: o.order === true || o.order === "true",
  };
}

/** Reads a TopicConfigSerializeWrapper object. */
export function readTopicConfigWrapper(value: unknown): TopicConfigWrapper {
  const o = asObject(value, "topic config wrapper");
  const table = new Map<string, TopicConfig>();
  const rawTable = o.topicConfigTable === undefined ? {} : asObject(o.topicConfigTable, "topicConfigTable");
  for (const [name, config] of Object.entries(rawTable)) table.set(name, readTopicConfig(config, name));
  return {
    dataVersion: o.dataVersion === undefined ? { counter: 0, timestamp: 0 } : readDataVersion(o.dataVersion),
    topicConfigTable: table,
  };
}

/** `RegisterBrokerBody.java` as decoded. */
export interface RegisterBrokerBody {
  topicConfigWrapper: TopicConfigWrapper;
  filterServerList: string[];
}

/** Reads a JSON `RegisterBrokerBody`. */
export function readRegisterBrokerBody(value: unknown): RegisterBrokerBody {
  const o = asObject(value, "register broker body");
  const filters = Array.isArray(o.filterServerList) ? o.filterServerList.map(String) : [];
  return {
    topicConfigWrapper: readTopicConfigWrapper(o.topicConfigSerializeWrapper ?? {}),
    filterServerList: filters,
  };
}

/** Encodes a JSON `RegisterBrokerBody`. */
export function registerBrokerBodyJson(body: RegisterBrokerBody): Record<string, unknown> {
  return {
    filterServerList: body.filterServerList,
    topicConfigSerializeWrapper: topicConfigWrapperJson(body.topicConfigWrapper),
  };
}

/**
 * Reads the compressed form of `RegisterBrokerBody` after zlib inflation:
 * `i32 len + DataVersion JSON | i32 topicCount | (i32 len + "name read write perm filterType")* |
 * i32 len + filter-server list JSON`.
 */
export function readCompressedRegisterBrokerBody(bytes: Uint8Array, topicCountMax: number): RegisterBrokerBody {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const chunk = (what: string): string => {
    if (pos + 4 > bytes.length) throw new ProtocolError(`Cannot read compressed register body: ${what} is truncated`);
    const length = view.getInt32(pos);
    pos += 4;
    if (length < 0 || pos + length > bytes.length) {
      throw new ProtocolError(`Cannot read compressed register body: ${what} length ${length} runs past the body`);
    }
    const text = decoder.decode(bytes.subarray(pos, pos + length));
    pos += length;
    return text;
  };
  const dataVersion = readDataVersion(JSON.parse(chunk("dataVersion")));
  if (pos + 4 > bytes.length) throw new ProtocolError("Cannot read compressed register body: topic count is truncated");
  const topicCount = view.getInt32(pos);
  pos += 4;
  if (topicCount < 0 || topicCount > topicCountMax) {
    throw new ProtocolError(`Cannot read compressed register body: ${topicCount} topics, limit is ${topicCountMax}`);
  }
  const table = new Map<string, TopicConfig>();
  for (let i = 0; i < topicCount; i++) {
    const parts = chunk(`topic ${i}`).split(" ");
    if (parts.length < 5) {
      throw new ProtocolError(`Cannot read compressed register body: topic line ${i} has ${parts.length} fields`);
    }
    const [topicName, read, write, perm, filter] = parts;
    table.set(topicName, {
      topicName,
      readQueueNums: intOf(read, `${topicName}.readQueueNums`),
      writeQueueNums: intOf(write, `${topicName}.writeQueueNums`),
      perm: intOf(perm, `${topicName}.perm`),
      topicFilterType: filter === "MULTI_TAG" ? "MULTI_TAG" : "SINGLE_TAG",
      topicSysFlag: 0,
      order: false,
    });
  }
  const filters = pos < bytes.length ? JSON.parse(chunk("filterServerList")) : [];
  return {
    topicConfigWrapper: { dataVersion, topicConfigTable: table },
    filterServerList: Array.isArray(filters) ? filters.map(String) : [],
  };
}

/** `QueueData.java`. */
export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

/** `BrokerData.java`: a broker name's addresses by broker id (0 = master). */
export interface BrokerData {
  cluster: string;
  brokerName: string;
  brokerAddrs: Map<number, string>;
}

/** `TopicRouteData.java`. */
export interface TopicRouteData {
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  filterServerTable: Map<string, string[]>;
}

/**
 * Encodes route data. `quoteKeys` selects standard JSON (`{"0":…}`, for requests of version
 * ≥ 401 or with `acceptStandardJsonOnly`) over fastjson's bare integer keys. QueueData carries
 * its flag both as `topicSysFlag` and as the pre-4.9.0 spelling `topicSynFlag` the Go client reads.
 */
export function topicRouteDataJson(route: TopicRouteData, quoteKeys: boolean): Record<string, unknown> {
  return {
    brokerDatas: route.brokerDatas.map((b) => brokerDataJson(b, quoteKeys)),
    filterServerTable: Object.fromEntries(route.filterServerTable),
    orderTopicConf: route.orderTopicConf,
    queueDatas: route.queueDatas.map((q) => ({
      brokerName: q.brokerName,
      perm: q.perm,
      readQueueNums: q.readQueueNums,
      topicSynFlag: q.topicSysFlag,
      topicSysFlag: q.topicSysFlag,
      writeQueueNums: q.writeQueueNums,
    })),
  };
}

/** Encodes a BrokerData, integer keys bare unless `quoteKeys`. */
export function brokerDataJson(broker: BrokerData, quoteKeys: boolean): Record<string, unknown> {
  const addrs = [...broker.brokerAddrs].sort((a, b) => a[0] - b[0]);
  return {
    brokerAddrs: quoteKeys ? Object.fromEntries(addrs.map(([id, addr]) => [String(id), addr])) : new Map(addrs),
    brokerName: broker.brokerName,
    cluster: broker.cluster,
  };
}

/** Reads route data (as clients and the admin tool need it). */
export function readTopicRouteData(value: unknown): TopicRouteData {
  const o = asObject(value, "topic route");
  const queueDatas = (Array.isArray(o.queueDatas) ? o.queueDatas : []).map((q): QueueData => {
    const r = asObject(q, "queueData");
    return {
      brokerName: String(r.brokerName),
      readQueueNums: intOf(r.readQueueNums, "readQueueNums", 0),
      writeQueueNums: intOf(r.writeQueueNums, "writeQueueNums", 0),
      perm: intOf(r.perm, "perm", 0),
      topicSysFlag: intOf(r.topicSysFlag ?? r.topicSynFlag, "topicSysFlag", 0),
    };
  });
  const brokerDatas = (Array.isArray(o.brokerDatas) ? o.brokerDatas : []).map(readBrokerData);
  const filterServerTable = new Map<string, string[]>();
  if (o.filterServerTable && typeof o.filterServerTable === "object") {
    for (const [addr, list] of Object.entries(o.filterServerTable as Record<string, unknown>)) {
      filterServerTable.set(addr, Array.isArray(list) ? list.map(String) : []);
    }
  }
  return {
    orderTopicConf: typeof o.orderTopicConf === "string" ? o.orderTopicConf : undefined,
    queueDatas,
    brokerDatas,
    filterServerTable,
  };
}

/** Reads one BrokerData. */
export function readBrokerData(value: unknown): BrokerData {
  const r = asObject(value, "brokerData");
  const addrs = new Map<number, string>();
  if (r.brokerAddrs && typeof r.brokerAddrs === "object") {
    for (const [id, addr] of Object.entries(r.brokerAddrs as Record<string, unknown>)) {
      addrs.set(Number(id), String(addr));
    }
  }
  return { cluster: String(r.cluster ?? ""), brokerName: String(r.brokerName), brokerAddrs: addrs };
}

/** `ClusterInfo.java`: broker addresses by name and broker names by cluster. */
export interface ClusterInfo {
  brokerAddrTable: Map<string, BrokerData>;
  clusterAddrTable: Map<string, Set<string>>;
}

/** Encodes ClusterInfo; its integer keys are always bare (no version gate in 4.9.x). */
export function clusterInfoJson(info: ClusterInfo): Record<string, unknown> {
  const brokers: Record<string, unknown> = {};
  for (const [name, data] of info.brokerAddrTable) brokers[name] = brokerDataJson(data, false);
  const clusters: Record<string, unknown> = {};
  for (const [name, set] of info.clusterAddrTable) clusters[name] = [...set];
  return { brokerAddrTable: brokers, clusterAddrTable: clusters };
}

/** Reads ClusterInfo. */
export function readClusterInfo(value: unknown): ClusterInfo {
  const o = asObject(value, "cluster info");
  const brokerAddrTable = new Map<string, BrokerData>();
  for (const [name, data] of Object.entries(asObject(o.brokerAddrTable ?? {}, "brokerAddrTable"))) {
    brokerAddrTable.set(name, readBrokerData(data));
  }
  const clusterAddrTable = new Map<string, Set<string>>();
  for (const [name, list] of Object.entries(asObject(o.clusterAddrTable ?? {}, "clusterAddrTable"))) {
    clusterAddrTable.set(name, new Set(Array.isArray(list) ? list.map(String) : []));
  }
  return { brokerAddrTable, clusterAddrTable };
}

/** `TopicList.java`. */
export function topicListJson(topics: Iterable<string>, brokerAddr?: string): Record<string, unknown> {
  return { brokerAddr, topicList: [...topics] };
}

/** `KVTable.java`. */
export function kvTableJson(table: Map<string, string>): Record<string, unknown> {
  return { table: Object.fromEntries(table) };
}

/**
 * Parses Java properties text (`k=v` lines; `#`/`!` comments; `:` also separates; `\` escapes
 * and line continuations), as UPDATE_*_CONFIG bodies and config files carry.
 */
export function parseJavaProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trimStart();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i].trimStart();
    const match = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)$/.exec(line);
    if (!match) continue;
    out.set(unescapeProperty(match[1]), unescapeProperty(match[2]));
  }
  return out;
}

function unescapeProperty(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e === "f" ? "\f" : e;
  });
}

/** Writes Java properties text, one `k=v` per line, keys sorted. */
export function formatJavaProperties(values: Map<string, string> | Record<string, string>): string {
  const entries = values instanceof Map ? [...values] : Object.entries(values);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return entries.map(([k, v]) => `${k}=${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n`).join("");
}

/** `SubscriptionGroupConfig.java`. */
export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
}

/** A group config with RocketMQ's defaults. */
export function newSubscriptionGroupConfig(groupName: string): SubscriptionGroupConfig {
  return {
    groupName,
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    retryQueueNums: 1,
    retryMaxTimes: 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
  };
}

/** Reads one group config, with defaults for missing fields. */
export function readSubscriptionGroupConfig(raw: unknown, name?: string): SubscriptionGroupConfig {
  const o = (raw ?? {}) as Record<string, unknown>;
  const groupName = typeof o.groupName === "string" && o.groupName ? o.groupName : name ?? "";
  const defaults = newSubscriptionGroupConfig(groupName);
  const bool = (v: unknown, d: boolean) => typeof v === "boolean" ? v : typeof v === "string" ? v === "true" : d;
  const int = (v: unknown, d: number) => {
    const n = typeof v === "string" ? Number(v) : v;
    return typeof n === "number" && Number.isInteger(n) ? n : d;
  };
  return {
    groupName,
    consumeEnable: bool(o.consumeEnable, defaults.consumeEnable),
    consumeFromMinEnable: bool(o.consumeFromMinEnable, defaults.consumeFromMinEnable),
    consumeBroadcastEnable: bool(o.consumeBroadcastEnable, defaults.consumeBroadcastEnable),
    retryQueueNums: int(o.retryQueueNums, defaults.retryQueueNums),
    retryMaxTimes: int(o.retryMaxTimes, defaults.retryMaxTimes),
    brokerId: int(o.brokerId, defaults.brokerId),
    whichBrokerWhenConsumeSlowly: int(o.whichBrokerWhenConsumeSlowly, defaults.whichBrokerWhenConsumeSlowly),
    notifyConsumerIdsChangedEnable: bool(o.notifyConsumerIdsChangedEnable, defaults.notifyConsumerIdsChangedEnable),
  };
}

/** A group config in fastjson's field order. */
export function subscriptionGroupJson(c: SubscriptionGroupConfig): Record<string, unknown> {
  return {
    brokerId: c.brokerId,
    consumeBroadcastEnable: c.consumeBroadcastEnable,
    consumeEnable: c.consumeEnable,
    consumeFromMinEnable: c.consumeFromMinEnable,
    groupName: c.groupName,
    notifyConsumerIdsChangedEnable: c.notifyConsumerIdsChangedEnable,
    retryMaxTimes: c.retryMaxTimes,
    retryQueueNums: c.retryQueueNums,
    whichBrokerWhenConsumeSlowly: c.whichBrokerWhenConsumeSlowly,
  };
}
