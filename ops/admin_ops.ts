/**
 * Cluster operations over RocketMQ's admin protocol, shared by the `admin` CLI and the HTTP admin
 * API: brokers, topics, consumer groups and their progress, connections, offset resets, message
 * queries, sends and broker config. They speak only request codes, so they work the same against
 * a real RocketMQ 4.9.x cluster, against our processes over TCP, and in-process through a
 * {@linkcode LocalInvoker}.
 *
 * Every fan-out is bounded: at most `fanOutConcurrencyMax` calls in flight, pages of at most
 * {@linkcode PAGE_SIZE_MAX} topics or groups, and caps on brokers, queues and clients visited.
 *
 * @module
 */

import {
  type ClusterInfo,
  decodeJsonBody,
  formatJavaProperties,
  parseJavaProperties,
  readClusterInfo,
  readTopicConfigWrapper,
  readTopicRouteData,
  type TopicConfig,
  type TopicRouteData,
} from "../protocol/bodies.ts";
import { createRequest, type ExtFields, type RemotingCommand } from "../protocol/command.ts";
import { stringifyFastJson } from "../protocol/fastjson.ts";
import { toExtFields } from "../protocol/header.ts";
import {
  decodeMessageRecords,
  decodeOffsetMessageId,
  encodeProperties,
  formatSocketAddress,
  UniqueIdGenerator,
} from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import {
  type BrokerStatsData,
  type ClientConnection,
  type ConsumerConnection,
  type GroupConfig,
  groupConfigJson,
  readBrokerStatsData,
  readConsumerConnection,
  readConsumeStats,
  readConsumeTimeSpans,
  readKvTable,
  readProducerConnection,
  readResetOffsetBody,
  readSubscriptionGroupWrapper,
  readTopicList,
  readTopicStatsTable,
  type TopicQueueOffsets,
} from "./bodies.ts";
import { InvalidArgumentError, NotFoundError, RemoteResponseError, UnreachableError } from "./errors.ts";
import type { Invoker } from "./invoker.ts";
import { type MessageView, messageView } from "./message_view.ts";

/** Largest page of topics or groups; a page's fan-out is this times the brokers. */
export const PAGE_SIZE_MAX = 100;
/** Calls in flight at once per operation (RocketMQ Dashboard uses a pool of 8 too). */
export const FAN_OUT_CONCURRENCY_MAX = 8;
/** Brokers one operation visits: far above real clusters, a bound against a corrupt route table. */
export const BROKERS_VISITED_MAX = 256;
/** Clients asked for their queues by consumerProgress `showClientIP`. */
export const CLIENTS_ASKED_MAX = 64;
/** Messages one key query returns (RocketMQ's broker caps at 64 too). */
export const QUERY_MESSAGES_MAX = 64;
/** Body bytes carried by a single-message view; list views carry {@linkcode BODY_PREVIEW_BYTES}. */
export const BODY_VIEW_BYTES_MAX = 4 * 1024 * 1024;
/** Body bytes carried by each message of a list. */
export const BODY_PREVIEW_BYTES = 1024;
/** Messages one pull of a DLQ page or browse returns. */
export const PULL_MESSAGES_MAX = 32;
/** The group admin pulls use: it exists on every broker and never commits. */
export const TOOLS_CONSUMER_GROUP = "TOOLS_CONSUMER";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One broker of the cluster. */
export interface ClusterBroker {
  cluster: string;
  brokerName: string;
  /** 0 = master. */
  brokerId: number;
  addr: string;
}

/** Where the cluster's brokers and routes come from. */
export interface ClusterSource {
  clusterInfo(): Promise<ClusterInfo>;
  /** @throws {NotFoundError} for an unknown topic. */
  topicRoute(topic: string): Promise<TopicRouteData>;
  topicNames(): Promise<string[]>;
  /** Removes a topic's routes (DELETE_TOPIC_IN_NAMESRV on every NameServer). */
  deleteTopicRoutes(topic: string): Promise<void>;
}

/** A page of a sorted list. */
export interface Page<T> {
  items: T[];
  /** Items matching the filter, over all pages. */
  total: number;
  /** 1-based. */
  page: number;
  pageSize: number;
}

/** What kind of topic a name is. */
export type TopicKind = "normal" | "retry" | "dlq" | "system";

/** A topic in a topic page. */
export interface TopicSummary {
  topic: string;
  kind: TopicKind;
  brokers: string[];
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  /** Messages still stored: sum over queues of max - min. */
  messages: number;
  /** Sum of the queues' max offsets: messages ever written. */
  maxOffsetTotal: number;
  /** Latest store time of a queue's last message; 0 when empty. */
  lastUpdateTimestamp: number;
  /** Messages put per second over the last minute (VIEW_BROKER_STATS_DATA TOPIC_PUT_NUMS). */
  putTps: number;
  /** Why a part of this summary is missing (a broker that did not answer). */
  error?: string;
}

/** A consumer group in a group page. */
export interface GroupSummary {
  group: string;
  system: boolean;
  /** Client connections (0 when offline). */
  online: number;
  consumeType: string;
  messageModel: string;
  consumeTps: number;
  /** Messages behind, over every queue. */
  lag: number;
  /** Largest per-queue lag in seconds. */
  lagSecondsMax: number;
  retryMaxTimes: number;
  error?: string;
}

/** One queue of consumerProgress. */
export interface ProgressRow {
  topic: string;
  brokerName: string;
  queueId: number;
  brokerOffset: number;
  consumerOffset: number;
  /** brokerOffset - consumerOffset. */
  lag: number;
  /** Seconds the first unconsumed message has waited; 0 when caught up. */
  lagSeconds: number;
  /** Store time of the last consumed message; 0 when none. */
  lastTimestamp: number;
  /** The client holding the queue (showClientIP), or "". */
  clientId: string;
}

/** consumerProgress. */
export interface ConsumerProgress {
  group: string;
  consumeTps: number;
  lag: number;
  lagSecondsMax: number;
  queues: ProgressRow[];
}

/** A broker with its runtime numbers. */
export interface BrokerSummary extends ClusterBroker {
  version: string;
  /** Messages put per second (last 10 s). */
  putTps: number;
  /** Messages pulled per second (last 10 s). */
  getTps: number;
  msgPutTotalTodayNow: number;
  msgGetTotalTodayNow: number;
  commitLogDiskRatio: number;
  runtime: string;
  error?: string;
}

/** Arguments of {@linkcode AdminOps.createTopic}. */
export interface CreateTopicSpec {
  topic: string;
  brokerAddr?: string;
  clusterName?: string;
  readQueueNums?: number;
  writeQueueNums?: number;
  perm?: number;
  order?: boolean;
}

/** Arguments of {@linkcode AdminOps.sendMessage}. */
export interface SendSpec {
  topic: string;
  body: string | Uint8Array;
  keys?: string;
  tags?: string;
  brokerName?: string;
  queueId?: number;
  producerGroup?: string;
  /** Extra properties (DLQ resends carry RETRY_TOPIC and ORIGIN_MESSAGE_ID). */
  properties?: Record<string, string>;
  reconsumeTimes?: number;
  /** Keep this client id (a DLQ resend keeps the original, so consumers can deduplicate). */
  uniqKey?: string;
}

/** What a send returned. */
export interface SendResult {
  brokerName: string;
  queueId: number;
  queueOffset: number;
  /** The client id (UNIQ_KEY). */
  msgId: string;
  offsetMsgId: string;
  /** SEND_OK, or FLUSH_DISK_TIMEOUT when stored without the fsync covering it in time. */
  status: string;
}

/** One queue of a reset. */
export interface ResetRow {
  topic: string;
  brokerName: string;
  queueId: number;
  offset: number;
}

/** A pull's answer. */
export interface PulledMessages {
  /** FOUND, NO_NEW_MSG, NO_MATCHED_MSG or OFFSET_ILLEGAL. */
  status: string;
  messages: MessageView[];
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
}

/** Options for {@linkcode AdminOps}. */
export interface AdminOpsOptions {
  invoker: Invoker;
  source: ClusterSource;
  /** Per call. Default 5000 ms. */
  timeoutMs?: number;
  now?: () => number;
}

const SYSTEM_TOPICS = new Set([
  "TBW102",
  "SCHEDULE_TOPIC_XXXX",
  "BenchmarkTest",
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT",
  "TRANS_CHECK_MAX_TIME_TOPIC",
]);

const SYSTEM_GROUPS = new Set([
  "TOOLS_CONSUMER",
  "FILTERSRV_CONSUMER",
  "SELF_TEST_C_GROUP",
  "CID_ONS-HTTP-PROXY",
  "CID_ONSAPI_PULL",
  "CID_ONSAPI_PERMISSION",
  "CID_ONSAPI_OWNER",
  "CID_SYS_RMQ_TRANS",
]);

/** Whether a group is one RocketMQ creates for itself. */
export function isSystemGroup(group: string): boolean {
  return SYSTEM_GROUPS.has(group) || group.startsWith("CID_RMQ_SYS_");
}

/** The kind of a topic; `clusterNames` are the cluster and broker names, which are topics too. */
export function topicKind(topic: string, clusterNames: ReadonlySet<string>): TopicKind {
  if (topic.startsWith("%RETRY%")) return "retry";
  if (topic.startsWith("%DLQ%")) return "dlq";
  if (
    SYSTEM_TOPICS.has(topic) || /^rmq_sys_/i.test(topic) || clusterNames.has(topic) ||
    (topic.endsWith("_REPLY_TOPIC") && clusterNames.has(topic.slice(0, -"_REPLY_TOPIC".length)))
  ) return "system";
  return "normal";
}

const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]{1,127}$/;

/** @throws {InvalidArgumentError} unless `name` is a valid topic or group name. */
export function checkName(name: string | undefined, what: "topic" | "group"): string {
  if (!name) throw new InvalidArgumentError(`Missing ${what} name`);
  if (!TOPIC_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `Invalid ${what} name "${name}": expected 1-127 characters of [%|a-zA-Z0-9_-]`,
    );
  }
  return name;
}

/** Page bounds from user input. */
export function pageBounds(page: number | undefined, pageSize: number | undefined): { page: number; size: number } {
  const p = page ?? 1;
  const s = pageSize ?? 20;
  if (!Number.isInteger(p) || p < 1) throw new InvalidArgumentError(`Invalid page ${p}: expected an integer >= 1`);
  if (!Number.isInteger(s) || s < 1 || s > PAGE_SIZE_MAX) {
    throw new InvalidArgumentError(`Invalid page size ${s}: expected 1-${PAGE_SIZE_MAX}`);
  }
  return { page: p, size: s };
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order and
 * a failed call yields its error instead of failing the rest.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<({ ok: true; value: R } | { ok: false; error: Error })[]> {
  const results = new Array<{ ok: true; value: R } | { ok: false; error: Error }>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { ok: true, value: await fn(items[index]) };
      } catch (error) {
        results[index] = { ok: false, error: error as Error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A {@linkcode ClusterSource} asking NameServers (the first that answers). */
export function nameServerSource(invoker: Invoker, nameServers: string[], timeoutMs = 5000): ClusterSource {
  async function ask(code: number, fields: ExtFields = {}, version?: number): Promise<RemotingCommand> {
    if (nameServers.length === 0) {
      throw new InvalidArgumentError("No NameServer given: use -n host:port (or NAMESRV_ADDR)");
    }
    let last: Error | undefined;
    for (const addr of nameServers) {
      try {
        const request = createRequest(code, fields);
        if (version !== undefined) request.version = version;
        return await invoker.invoke(addr, request, timeoutMs);
      } catch (error) {
        last = error as Error;
      }
    }
    throw last!;
  }
  return {
    async clusterInfo() {
      const response = await ask(RequestCode.GET_BROKER_CLUSTER_INFO);
      expectSuccess(response, "GET_BROKER_CLUSTER_INFO");
      return readClusterInfo(decodeJsonBody(response.body, "cluster info"));
    },
    async topicRoute(topic) {
      const response = await ask(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }, 409);
      if (response.code === ResponseCode.TOPIC_NOT_EXIST) {
        throw new NotFoundError(`Topic "${topic}" not found: the NameServer has no route for it`);
      }
      expectSuccess(response, "GET_ROUTEINFO_BY_TOPIC");
      return readTopicRouteData(decodeJsonBody(response.body, "topic route"));
    },
    async topicNames() {
      const response = await ask(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
      expectSuccess(response, "GET_ALL_TOPIC_LIST_FROM_NAMESERVER");
      return readTopicList(response.body);
    },
    async deleteTopicRoutes(topic) {
      for (const addr of nameServers) {
        const response = await invoker.invoke(
          addr,
          createRequest(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic }),
          timeoutMs,
        );
        expectSuccess(response, `DELETE_TOPIC_IN_NAMESRV to ${addr}`);
      }
    },
  };
}

function expectSuccess(response: RemotingCommand, what: string): void {
  if (response.code !== ResponseCode.SUCCESS) {
    throw new RemoteResponseError(
      response.code,
      `${what} failed: ${response.remark?.trim() || `code ${response.code}`}`,
    );
  }
}

/** Parses `[now|ms|yyyy-MM-dd#HH:mm:ss:SSS]` (mqadmin's timestamp forms) to epoch ms. */
export function parseTimestamp(text: string, now = Date.now()): number {
  if (text === "now") return now;
  if (/^\d+$/.test(text)) return Number(text);
  const m = /^(\d{4})-(\d{2})-(\d{2})#(\d{2}):(\d{2}):(\d{2}):(\d{3})$/.exec(text);
  if (m) {
    const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number);
    return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  }
  const iso = Date.parse(text);
  if (!Number.isNaN(iso)) return iso;
  throw new InvalidArgumentError(
    `Invalid timestamp "${text}": expected now, epoch milliseconds, yyyy-MM-dd#HH:mm:ss:SSS or ISO 8601`,
  );
}

/** Cluster operations; see the module note. */
export class AdminOps {
  readonly #invoker: Invoker;
  readonly #source: ClusterSource;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #ids = new UniqueIdGenerator({ pid: Deno.pid });

  constructor(options: AdminOpsOptions) {
    this.#invoker = options.invoker;
    this.#source = options.source;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#now = options.now ?? Date.now;
  }

  /** The cluster source (routes, topic names). */
  get source(): ClusterSource {
    return this.#source;
  }

  /** Sends one request; a transport failure is an {@linkcode UnreachableError}. */
  call(addr: string, code: number, fields: ExtFields = {}, body?: Uint8Array): Promise<RemotingCommand> {
    return this.#invoker.invoke(addr, createRequest(code, fields, { body }), this.#timeoutMs);
  }

  /** Like {@linkcode call}; a non-success answer is a {@linkcode RemoteResponseError}. */
  async callOk(addr: string, code: number, fields: ExtFields = {}, body?: Uint8Array): Promise<RemotingCommand> {
    const response = await this.call(addr, code, fields, body);
    const name = Object.entries(RequestCode).find(([, c]) => c === code)?.[0] ?? String(code);
    expectSuccess(response, `${name} to ${addr}`);
    return response;
  }

  // ---- brokers ----

  /** Every broker, sorted by cluster, name and id. */
  async brokers(): Promise<ClusterBroker[]> {
    const info = await this.#source.clusterInfo();
    const rows: ClusterBroker[] = [];
    const clusterOf = new Map<string, string>();
    for (const [cluster, names] of info.clusterAddrTable) for (const name of names) clusterOf.set(name, cluster);
    for (const [name, data] of info.brokerAddrTable) {
      for (const [brokerId, addr] of data.brokerAddrs) {
        rows.push({ cluster: clusterOf.get(name) ?? data.cluster, brokerName: name, brokerId, addr });
      }
    }
    rows.sort((a, b) =>
      a.cluster.localeCompare(b.cluster) || a.brokerName.localeCompare(b.brokerName) || a.brokerId - b.brokerId
    );
    return rows.slice(0, BROKERS_VISITED_MAX);
  }

  /**
   * Masters, of one cluster when `clusterName` is given.
   *
   * @throws {NotFoundError} for an unknown cluster.
   */
  async masters(clusterName?: string): Promise<ClusterBroker[]> {
    const all = await this.brokers();
    if (clusterName !== undefined && !all.some((b) => b.cluster === clusterName)) {
      throw new NotFoundError(`Cluster "${clusterName}" not found`);
    }
    return all.filter((b) => b.brokerId === 0 && (clusterName === undefined || b.cluster === clusterName));
  }

  /**
   * The master address of a broker name.
   *
   * @throws {NotFoundError} for an unknown broker.
   */
  async masterAddr(brokerName: string): Promise<string> {
    const found = (await this.brokers()).find((b) => b.brokerName === brokerName && b.brokerId === 0);
    if (!found) throw new NotFoundError(`Broker "${brokerName}" not found`);
    return found.addr;
  }

  /**
   * Addresses for `-b` / `-c`: the broker, or every master of the cluster.
   *
   * @throws {InvalidArgumentError} when neither is given.
   */
  async targets(brokerAddr: string | undefined, clusterName: string | undefined): Promise<string[]> {
    if (brokerAddr) return [brokerAddr];
    if (clusterName) return (await this.masters(clusterName)).map((b) => b.addr);
    throw new InvalidArgumentError("Missing -b <brokerAddr> or -c <clusterName>");
  }

  /** GET_BROKER_RUNTIME_INFO. */
  async runtimeInfo(addr: string): Promise<Record<string, string>> {
    return readKvTable((await this.callOk(addr, RequestCode.GET_BROKER_RUNTIME_INFO)).body);
  }

  /** Every broker with its runtime numbers; a broker that does not answer carries `error`. */
  async brokerSummaries(): Promise<BrokerSummary[]> {
    const brokers = await this.brokers();
    const infos = await mapBounded(brokers, FAN_OUT_CONCURRENCY_MAX, (b) => this.runtimeInfo(b.addr));
    return brokers.map((b, i) => {
      const r = infos[i];
      if (!r.ok) {
        return {
          ...b,
          version: "",
          putTps: 0,
          getTps: 0,
          msgPutTotalTodayNow: 0,
          msgGetTotalTodayNow: 0,
          commitLogDiskRatio: -1,
          runtime: "",
          error: r.error.message,
        };
      }
      const kv = r.value;
      const firstOf = (text: string | undefined) => Number((text ?? "0").split(" ")[0]) || 0;
      return {
        ...b,
        version: kv.brokerVersionDesc ?? "",
        putTps: firstOf(kv.putTps),
        getTps: firstOf(kv.getTransferedTps),
        msgPutTotalTodayNow: Number(kv.msgPutTotalTodayNow ?? 0),
        msgGetTotalTodayNow: Number(kv.msgGetTotalTodayNow ?? 0),
        commitLogDiskRatio: Number(kv.commitLogDiskRatio ?? -1),
        runtime: kv.runtime ?? "",
      };
    });
  }

  /** GET_BROKER_CONFIG, keys sorted. */
  async brokerConfig(addr: string): Promise<Record<string, string>> {
    const response = await this.callOk(addr, RequestCode.GET_BROKER_CONFIG);
    const entries = [...parseJavaProperties(response.body ? decoder.decode(response.body) : "")];
    entries.sort((a, b) => a[0].localeCompare(b[0]));
    return Object.fromEntries(entries);
  }

  /** UPDATE_BROKER_CONFIG of one key on each address. */
  async updateBrokerConfig(addrs: string[], key: string, value: string): Promise<void> {
    if (!key) throw new InvalidArgumentError("Missing -k <key>");
    const body = encoder.encode(formatJavaProperties(new Map([[key, value]])));
    for (const addr of addrs) await this.callOk(addr, RequestCode.UPDATE_BROKER_CONFIG, {}, body);
  }

  // ---- topics ----

  /** Topic names known to the cluster, sorted. */
  async topicNames(): Promise<string[]> {
    return [...new Set(await this.#source.topicNames())].sort();
  }

  /** GET_ROUTEINFO_BY_TOPIC. */
  topicRoute(topic: string): Promise<TopicRouteData> {
    return this.#source.topicRoute(checkName(topic, "topic"));
  }

  /** Master addresses serving `topic`, with their broker names. */
  #routeMasters(route: TopicRouteData): { brokerName: string; addr: string }[] {
    const out: { brokerName: string; addr: string }[] = [];
    for (const b of route.brokerDatas.slice(0, BROKERS_VISITED_MAX)) {
      const addr = b.brokerAddrs.get(0);
      if (addr) out.push({ brokerName: b.brokerName, addr });
    }
    return out.sort((a, b) => a.brokerName.localeCompare(b.brokerName));
  }

  /** GET_TOPIC_STATS_INFO on each master of the route: min/max offset and last store time per queue. */
  async topicStatus(topic: string): Promise<TopicQueueOffsets[]> {
    const route = await this.topicRoute(topic);
    const masters = this.#routeMasters(route);
    const results = await mapBounded(masters, FAN_OUT_CONCURRENCY_MAX, async (m) => {
      const response = await this.call(m.addr, RequestCode.GET_TOPIC_STATS_INFO, { topic });
      if (response.code === ResponseCode.TOPIC_NOT_EXIST) return [];
      expectSuccess(response, `GET_TOPIC_STATS_INFO to ${m.addr}`);
      return readTopicStatsTable(response.body);
    });
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok && results.every((r) => !r.ok)) throw failed.error;
    return results.flatMap((r) => r.ok ? r.value : []);
  }

  /** VIEW_BROKER_STATS_DATA (e.g. TOPIC_PUT_NUMS of a topic, GROUP_GET_NUMS of `topic@group`). */
  async statsData(addr: string, statsName: string, statsKey: string): Promise<BrokerStatsData | undefined> {
    const response = await this.call(addr, RequestCode.VIEW_BROKER_STATS_DATA, { statsName, statsKey });
    return response.code === ResponseCode.SUCCESS ? readBrokerStatsData(response.body) : undefined;
  }

  /** The topic configs of one broker (GET_ALL_TOPIC_CONFIG). */
  async topicConfigs(addr: string): Promise<Map<string, TopicConfig>> {
    const response = await this.callOk(addr, RequestCode.GET_ALL_TOPIC_CONFIG);
    return readTopicConfigWrapper(decodeJsonBody(response.body, "topic configs")).topicConfigTable;
  }

  /**
   * A page of topics with their queues, stored messages and put rate. Names come from the
   * cluster source; only the page's topics are visited, at most `fanOutConcurrencyMax` calls at once.
   */
  async topicPage(
    options: { filter?: string; kinds?: TopicKind[]; page?: number; pageSize?: number } = {},
  ): Promise<Page<TopicSummary>> {
    const { page, size } = pageBounds(options.page, options.pageSize);
    const [names, brokers] = await Promise.all([this.topicNames(), this.brokers()]);
    const clusterNames = new Set(brokers.flatMap((b) => [b.cluster, b.brokerName]));
    const kinds = new Set(options.kinds ?? ["normal"]);
    const filter = options.filter?.toLowerCase() ?? "";
    const matching = names.filter((t) => kinds.has(topicKind(t, clusterNames)) && t.toLowerCase().includes(filter));
    const slice = matching.slice((page - 1) * size, page * size);
    const results = await mapBounded(slice, FAN_OUT_CONCURRENCY_MAX, (t) => this.#topicSummary(t, clusterNames));
    const items = slice.map((topic, i): TopicSummary => {
      const r = results[i];
      if (r.ok) return r.value;
      return {
        topic,
        kind: topicKind(topic, clusterNames),
        brokers: [],
        readQueueNums: 0,
        writeQueueNums: 0,
        perm: 0,
        messages: 0,
        maxOffsetTotal: 0,
        lastUpdateTimestamp: 0,
        putTps: 0,
        error: r.error.message,
      };
    });
    return { items, total: matching.length, page, pageSize: size };
  }

  async #topicSummary(topic: string, clusterNames: ReadonlySet<string>): Promise<TopicSummary> {
    const route = await this.#source.topicRoute(topic);
    const masters = this.#routeMasters(route);
    const summary: TopicSummary = {
      topic,
      kind: topicKind(topic, clusterNames),
      brokers: masters.map((m) => m.brokerName),
      readQueueNums: route.queueDatas.reduce((n, q) => n + q.readQueueNums, 0),
      writeQueueNums: route.queueDatas.reduce((n, q) => n + q.writeQueueNums, 0),
      perm: route.queueDatas[0]?.perm ?? 0,
      messages: 0,
      maxOffsetTotal: 0,
      lastUpdateTimestamp: 0,
      putTps: 0,
    };
    const errors: string[] = [];
    for (const m of masters) {
      try {
        const response = await this.call(m.addr, RequestCode.GET_TOPIC_STATS_INFO, { topic });
        if (response.code === ResponseCode.SUCCESS) {
          for (const q of readTopicStatsTable(response.body)) {
            summary.messages += Math.max(0, q.maxOffset - q.minOffset);
            summary.maxOffsetTotal += q.maxOffset;
            summary.lastUpdateTimestamp = Math.max(summary.lastUpdateTimestamp, q.lastUpdateTimestamp);
          }
        }
        summary.putTps += (await this.statsData(m.addr, "TOPIC_PUT_NUMS", topic))?.minute.tps ?? 0;
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    if (errors.length > 0) summary.error = errors.join("; ");
    return summary;
  }

  /**
   * UPDATE_AND_CREATE_TOPIC on a broker or every master of a cluster.
   *
   * @returns the addresses written to.
   */
  async createTopic(spec: CreateTopicSpec): Promise<string[]> {
    const topic = checkName(spec.topic, "topic");
    const targets = await this.targets(spec.brokerAddr, spec.clusterName);
    const queues = (value: number | undefined, name: string) => {
      const n = value ?? 8;
      if (!Number.isInteger(n) || n < 0 || n > 1024) {
        throw new InvalidArgumentError(`Invalid ${name} ${n}: expected 0-1024`);
      }
      return n;
    };
    const perm = spec.perm ?? 6;
    if (!Number.isInteger(perm) || perm < 0 || perm > 15) {
      throw new InvalidArgumentError(`Invalid perm ${perm}: expected PermName bits 0-15 (6 = read+write)`);
    }
    const fields = toExtFields({
      topic,
      defaultTopic: "TBW102",
      readQueueNums: queues(spec.readQueueNums, "readQueueNums"),
      writeQueueNums: queues(spec.writeQueueNums, "writeQueueNums"),
      perm,
      topicFilterType: "SINGLE_TAG",
      topicSysFlag: 0,
      order: spec.order ?? false,
    });
    for (const addr of targets) await this.callOk(addr, RequestCode.UPDATE_AND_CREATE_TOPIC, fields);
    return targets;
  }

  /**
   * Deletes a topic from the masters serving it (of one cluster when given), then from the
   * NameServers (mqadmin deleteTopic).
   *
   * @returns the broker addresses it was deleted from.
   */
  async deleteTopic(topic: string, clusterName?: string): Promise<string[]> {
    checkName(topic, "topic");
    const route = await this.topicRoute(topic);
    let masters = (this.#routeMasters(route)).map((m) => m.addr);
    if (clusterName !== undefined) {
      const inCluster = new Set((await this.masters(clusterName)).map((b) => b.addr));
      masters = masters.filter((a) => inCluster.has(a));
    }
    for (const addr of masters) await this.callOk(addr, RequestCode.DELETE_TOPIC_IN_BROKER, { topic });
    await this.#source.deleteTopicRoutes(topic);
    return masters;
  }

  // ---- consumer groups ----

  /** Group configs of every master, merged by name (GET_ALL_SUBSCRIPTIONGROUP_CONFIG). */
  async groupConfigs(): Promise<GroupConfig[]> {
    const masters = await this.masters();
    const results = await mapBounded(masters, FAN_OUT_CONCURRENCY_MAX, async (m) => {
      const response = await this.callOk(m.addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
      return readSubscriptionGroupWrapper(response.body);
    });
    if (results.length > 0 && results.every((r) => !r.ok)) throw (results[0] as { error: Error }).error;
    const byName = new Map<string, GroupConfig>();
    for (const r of results) {
      if (r.ok) { for (const g of r.value) if (!byName.has(g.groupName)) byName.set(g.groupName, g); }
    }
    return [...byName.values()].sort((a, b) => a.groupName.localeCompare(b.groupName));
  }

  /** A page of consumer groups with their clients, rate and lag. */
  async groupPage(
    options: { filter?: string; includeSystem?: boolean; page?: number; pageSize?: number } = {},
  ): Promise<Page<GroupSummary>> {
    const { page, size } = pageBounds(options.page, options.pageSize);
    const filter = options.filter?.toLowerCase() ?? "";
    const configs = (await this.groupConfigs()).filter((g) =>
      (options.includeSystem || !isSystemGroup(g.groupName)) && g.groupName.toLowerCase().includes(filter)
    );
    const slice = configs.slice((page - 1) * size, page * size);
    const results = await mapBounded(slice, FAN_OUT_CONCURRENCY_MAX, (g) => this.#groupSummary(g));
    return {
      items: results.map((r) => (r as { value: GroupSummary }).value),
      total: configs.length,
      page,
      pageSize: size,
    };
  }

  async #groupSummary(config: GroupConfig): Promise<GroupSummary> {
    const group = config.groupName;
    const summary: GroupSummary = {
      group,
      system: isSystemGroup(group),
      online: 0,
      consumeType: "",
      messageModel: "",
      consumeTps: 0,
      lag: 0,
      lagSecondsMax: 0,
      retryMaxTimes: config.retryMaxTimes,
    };
    try {
      const connection = await this.consumerConnection(group);
      summary.online = connection.connections.length;
      summary.consumeType = connection.consumeType;
      summary.messageModel = connection.messageModel;
    } catch (error) {
      if (!(error instanceof RemoteResponseError && error.responseCode === ResponseCode.CONSUMER_NOT_ONLINE)) {
        summary.error = (error as Error).message;
      }
    }
    try {
      const progress = await this.consumerProgress(group, { withLagSeconds: true });
      summary.consumeTps = progress.consumeTps;
      summary.lag = progress.lag;
      summary.lagSecondsMax = progress.lagSecondsMax;
    } catch (error) {
      if (!(error instanceof NotFoundError)) summary.error = (error as Error).message;
    }
    return summary;
  }

  /** UPDATE_AND_CREATE_SUBSCRIPTIONGROUP on each address. */
  async updateGroup(addrs: string[], config: GroupConfig): Promise<void> {
    checkName(config.groupName, "group");
    const body = encoder.encode(stringifyFastJson(groupConfigJson(config)));
    for (const addr of addrs) await this.callOk(addr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body);
  }

  /** DELETE_SUBSCRIPTIONGROUP on each address. */
  async deleteGroup(addrs: string[], group: string, removeOffset: boolean): Promise<void> {
    checkName(group, "group");
    for (const addr of addrs) {
      await this.callOk(addr, RequestCode.DELETE_SUBSCRIPTIONGROUP, {
        groupName: group,
        removeOffset: String(removeOffset),
      });
    }
  }

  /**
   * A group's connections from the first master that knows it online.
   *
   * @throws {RemoteResponseError} CONSUMER_NOT_ONLINE when no master has it online.
   */
  async consumerConnection(group: string, brokerAddr?: string): Promise<ConsumerConnection> {
    checkName(group, "group");
    const addrs = brokerAddr ? [brokerAddr] : (await this.masters()).map((m) => m.addr);
    let last: Error = new RemoteResponseError(
      ResponseCode.CONSUMER_NOT_ONLINE,
      `the consumer group[${group}] not online`,
    );
    for (const addr of addrs) {
      try {
        const response = await this.call(addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: group });
        if (response.code === ResponseCode.SUCCESS) return readConsumerConnection(response.body);
        last = new RemoteResponseError(
          response.code,
          response.remark?.trim() || `the consumer group[${group}] not online`,
        );
      } catch (error) {
        last = error as Error;
      }
    }
    throw last;
  }

  /** A producer group's connections (GET_PRODUCER_CONNECTION_LIST), merged over masters. */
  async producerConnection(group: string): Promise<ClientConnection[]> {
    const masters = await this.masters();
    const byId = new Map<string, ClientConnection>();
    for (const m of masters) {
      const response = await this.call(m.addr, RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: group });
      if (response.code === ResponseCode.SUCCESS) {
        for (const c of readProducerConnection(response.body)) byId.set(c.clientId, c);
      }
    }
    return [...byId.values()];
  }

  /**
   * Per-queue progress of a group: broker and consumer offsets, lag in messages (GET_CONSUME_STATS)
   * and in seconds (QUERY_CONSUME_TIME_SPAN's delay), optionally the client of each queue.
   *
   * @throws {NotFoundError} when no broker has offsets for the group.
   */
  async consumerProgress(
    group: string,
    options: { topic?: string; withLagSeconds?: boolean; showClientIp?: boolean } = {},
  ): Promise<ConsumerProgress> {
    checkName(group, "group");
    const masters = await this.masters();
    const stats = await mapBounded(masters, FAN_OUT_CONCURRENCY_MAX, async (m) => {
      const fields = toExtFields({ consumerGroup: group, topic: options.topic });
      const response = await this.callOk(m.addr, RequestCode.GET_CONSUME_STATS, fields);
      return { master: m, stats: readConsumeStats(response.body) };
    });
    const rows: ProgressRow[] = [];
    let consumeTps = 0;
    const lagQueries: { addr: string; topic: string }[] = [];
    for (const r of stats) {
      if (!r.ok) {
        if (stats.every((s) => !s.ok)) throw r.error;
        continue;
      }
      consumeTps += r.value.stats.consumeTps;
      const topics = new Set<string>();
      for (const q of r.value.stats.queues) {
        const lag = Math.max(0, q.brokerOffset - q.consumerOffset);
        rows.push({ ...q, lag, lagSeconds: 0, clientId: "" });
        if (lag > 0) topics.add(q.topic);
      }
      for (const topic of topics) lagQueries.push({ addr: r.value.master.addr, topic });
    }
    if (rows.length === 0) {
      throw new NotFoundError(
        `Consumer group "${group}" has no consume stats: no broker has offsets for it (maybe it never consumed)`,
      );
    }
    if (options.withLagSeconds !== false) {
      const spans = await mapBounded(lagQueries, FAN_OUT_CONCURRENCY_MAX, async (q) => {
        const response = await this.callOk(q.addr, RequestCode.QUERY_CONSUME_TIME_SPAN, { topic: q.topic, group });
        return readConsumeTimeSpans(response.body);
      });
      const delay = new Map<string, number>();
      for (const s of spans) {
        if (s.ok) { for (const t of s.value) delay.set(`${t.topic}\0${t.brokerName}\0${t.queueId}`, t.delayTime); }
      }
      for (const row of rows) {
        const ms = row.lag > 0 ? delay.get(`${row.topic}\0${row.brokerName}\0${row.queueId}`) ?? 0 : 0;
        row.lagSeconds = Math.max(0, Math.round(ms / 100) / 10);
      }
    }
    if (options.showClientIp) await this.#assignClients(group, rows);
    rows.sort((a, b) =>
      a.topic.localeCompare(b.topic) || a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId
    );
    return {
      group,
      consumeTps: Math.round(consumeTps * 100) / 100,
      lag: rows.reduce((n, r) => n + r.lag, 0),
      lagSecondsMax: rows.reduce((n, r) => Math.max(n, r.lagSeconds), 0),
      queues: rows,
    };
  }

  /** Asks each client (GET_CONSUMER_RUNNING_INFO through a broker) which queues it holds. */
  async #assignClients(group: string, rows: ProgressRow[]): Promise<void> {
    let connection: ConsumerConnection;
    let addr: string;
    try {
      addr = (await this.masters())[0]?.addr ?? "";
      connection = await this.consumerConnection(group);
    } catch {
      return; // offline: no client holds a queue
    }
    const clients = connection.connections.slice(0, CLIENTS_ASKED_MAX);
    const infos = await mapBounded(clients, FAN_OUT_CONCURRENCY_MAX, async (c) => {
      const response = await this.callOk(addr, RequestCode.GET_CONSUMER_RUNNING_INFO, {
        consumerGroup: group,
        clientId: c.clientId,
        jstackEnable: "false",
      });
      const parsed = decodeJsonBody(response.body, "consumer running info") as Record<string, unknown>;
      const table = parsed.mqTable;
      const keys = table instanceof Map ? [...table.keys()] : [];
      return keys.map((k) => k as { topic?: string; brokerName?: string; queueId?: number });
    });
    const owner = new Map<string, string>();
    clients.forEach((c, i) => {
      const r = infos[i];
      if (r.ok) { for (const q of r.value) owner.set(`${q.topic}\0${q.brokerName}\0${q.queueId}`, c.clientId); }
    });
    for (const row of rows) row.clientId = owner.get(`${row.topic}\0${row.brokerName}\0${row.queueId}`) ?? "";
  }

  /**
   * Resets a group's offsets on a topic to the first message stored at or after `timestampMs`
   * (mqadmin resetOffsetByTime): INVOKE_BROKER_TO_RESET_OFFSET, which also tells online clients;
   * for an offline group, SEARCH_OFFSET_BY_TIMESTAMP and UPDATE_CONSUMER_OFFSET per queue. Without
   * `force`, a queue only moves back.
   */
  async resetOffsetByTime(group: string, topic: string, timestampMs: number, force: boolean): Promise<ResetRow[]> {
    checkName(group, "group");
    const route = await this.topicRoute(topic);
    const masters = this.#routeMasters(route);
    const rows: ResetRow[] = [];
    for (const m of masters) {
      const response = await this.call(m.addr, RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {
        topic,
        group,
        timestamp: String(timestampMs),
        isForce: String(force),
      });
      if (response.code === ResponseCode.SUCCESS) {
        rows.push(...readResetOffsetBody(response.body));
        continue;
      }
      if (response.code !== ResponseCode.CONSUMER_NOT_ONLINE) {
        expectSuccess(response, `INVOKE_BROKER_TO_RESET_OFFSET to ${m.addr}`);
      }
      const queues = route.queueDatas.find((q) => q.brokerName === m.brokerName)?.readQueueNums ?? 0;
      for (let queueId = 0; queueId < queues; queueId++) {
        const fields = { topic, queueId: String(queueId) };
        const searched = await this.callOk(m.addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, {
          ...fields,
          timestamp: String(timestampMs),
        });
        const offset = Number(searched.extFields.offset ?? 0);
        const current = await this.call(m.addr, RequestCode.QUERY_CONSUMER_OFFSET, { ...fields, consumerGroup: group });
        const currentOffset = current.code === ResponseCode.SUCCESS ? Number(current.extFields.offset ?? -1) : -1;
        if (force || currentOffset < 0 || offset < currentOffset) {
          await this.callOk(m.addr, RequestCode.UPDATE_CONSUMER_OFFSET, {
            ...fields,
            consumerGroup: group,
            commitOffset: String(offset),
          });
          rows.push({ topic, brokerName: m.brokerName, queueId, offset });
        } else {
          rows.push({ topic, brokerName: m.brokerName, queueId, offset: currentOffset });
        }
      }
    }
    return rows;
  }

  // ---- messages ----

  /**
   * Messages whose KEYS (or UNIQ_KEY with `uniqueKey`) equal `key`, newest last (QUERY_MESSAGE
   * on each master of the route).
   *
   * @throws {NotFoundError} when none is found.
   */
  async queryByKey(
    topic: string,
    key: string,
    options: { maxNum?: number; beginMs?: number; endMs?: number; uniqueKey?: boolean; bodyBytesMax?: number } = {},
  ): Promise<MessageView[]> {
    if (!key) throw new InvalidArgumentError("Missing -k <key>");
    const route = await this.topicRoute(topic);
    const masters = this.#routeMasters(route);
    const maxNum = Math.min(options.maxNum ?? QUERY_MESSAGES_MAX, QUERY_MESSAGES_MAX);
    const results = await mapBounded(masters, FAN_OUT_CONCURRENCY_MAX, async (m) => {
      const fields = toExtFields({
        topic,
        key,
        maxNum,
        beginTimestamp: options.beginMs ?? 0,
        endTimestamp: options.endMs ?? Number.MAX_SAFE_INTEGER,
        _UNIQUE_KEY_QUERY: options.uniqueKey ? "true" : undefined,
      });
      const response = await this.call(m.addr, RequestCode.QUERY_MESSAGE, fields);
      if (response.code === ResponseCode.QUERY_NOT_FOUND) return [];
      expectSuccess(response, `QUERY_MESSAGE to ${m.addr}`);
      return decodeMessageRecords(response.body ?? new Uint8Array())
        .filter((r) => r.topic === topic)
        .map((r) => messageView(r, m.brokerName, options.bodyBytesMax ?? BODY_PREVIEW_BYTES));
    });
    if (results.length > 0 && results.every((r) => !r.ok)) throw (results[0] as { error: Error }).error;
    const views = results.flatMap((r) => r.ok ? r.value : []);
    const wanted = options.uniqueKey
      ? views.filter((v) => v.msgId === key)
      : views.filter((v) => v.keys.split(" ").includes(key));
    if (wanted.length === 0) {
      throw new NotFoundError(`No message with ${options.uniqueKey ? "id" : "key"} "${key}" in topic "${topic}"`);
    }
    return wanted.sort((a, b) => a.storeTimestamp - b.storeTimestamp).slice(0, maxNum);
  }

  /**
   * A message by its offsetMsgId (VIEW_MESSAGE_BY_ID at the store host it names) or, failing
   * that and given the topic, by its client id (UNIQ_KEY through the index).
   *
   * @throws {NotFoundError} when there is no such message.
   */
  async queryById(msgId: string, topic?: string): Promise<MessageView> {
    if (!/^[0-9A-Fa-f]{32}$|^[0-9A-Fa-f]{56}$/.test(msgId)) {
      throw new InvalidArgumentError(`Invalid message id "${msgId}": expected 32 or 56 hex digits`);
    }
    const brokers = await this.brokers();
    const { storeHost, commitLogOffset } = decodeOffsetMessageId(msgId.toUpperCase());
    const addr = formatSocketAddress(storeHost);
    const broker = brokers.find((b) => b.addr === addr);
    if (broker && commitLogOffset >= 0) {
      const response = await this.call(addr, RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(commitLogOffset) });
      if (response.code === ResponseCode.SUCCESS && response.body) {
        const [record] = decodeMessageRecords(response.body);
        if (record) return messageView(record, broker.brokerName, BODY_VIEW_BYTES_MAX);
      }
    }
    if (topic) {
      const [view] = await this.queryByKey(topic, msgId.toUpperCase(), {
        uniqueKey: true,
        maxNum: 1,
        bodyBytesMax: BODY_VIEW_BYTES_MAX,
      });
      return view;
    }
    throw new NotFoundError(
      `No message with offsetMsgId "${msgId}"${
        broker ? "" : ` (it names ${addr}, which is not a broker of this cluster)`
      }; for a client message id give the topic too`,
    );
  }

  /**
   * Messages of one queue from `queueOffset` (PULL_MESSAGE as TOOLS_CONSUMER, which never
   * commits), at most `maxCount` (≤ {@linkcode PULL_MESSAGES_MAX}).
   */
  async pullMessages(
    topic: string,
    brokerName: string,
    queueId: number,
    queueOffset: number,
    options: { maxCount?: number; bodyBytesMax?: number } = {},
  ): Promise<PulledMessages> {
    checkName(topic, "topic");
    if (!Number.isInteger(queueId) || queueId < 0) throw new InvalidArgumentError(`Invalid queue id ${queueId}`);
    if (!Number.isSafeInteger(queueOffset) || queueOffset < 0) {
      throw new InvalidArgumentError(`Invalid queue offset ${queueOffset}: expected an integer >= 0`);
    }
    const addr = await this.masterAddr(brokerName);
    const maxCount = Math.max(1, Math.min(options.maxCount ?? PULL_MESSAGES_MAX, PULL_MESSAGES_MAX));
    const response = await this.call(
      addr,
      RequestCode.PULL_MESSAGE,
      toExtFields({
        consumerGroup: TOOLS_CONSUMER_GROUP,
        topic,
        queueId,
        queueOffset,
        maxMsgNums: maxCount,
        sysFlag: 0x4, // SUBSCRIPTION only: no commit, no suspend
        commitOffset: 0,
        suspendTimeoutMillis: 0,
        subscription: "*",
        subVersion: 0,
        expressionType: "TAG",
      }),
    );
    const ext = response.extFields;
    const bounds = {
      nextBeginOffset: Number(ext.nextBeginOffset ?? queueOffset),
      minOffset: Number(ext.minOffset ?? 0),
      maxOffset: Number(ext.maxOffset ?? 0),
    };
    switch (response.code) {
      case ResponseCode.SUCCESS: {
        const records = decodeMessageRecords(response.body ?? new Uint8Array());
        const messages = records.slice(0, maxCount).map((r) =>
          messageView(r, brokerName, options.bodyBytesMax ?? BODY_PREVIEW_BYTES)
        );
        return { status: "FOUND", messages, ...bounds };
      }
      case ResponseCode.PULL_NOT_FOUND:
        return { status: "NO_NEW_MSG", messages: [], ...bounds };
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
        return { status: "NO_MATCHED_MSG", messages: [], ...bounds };
      case ResponseCode.PULL_OFFSET_MOVED:
        return { status: "OFFSET_ILLEGAL", messages: [], ...bounds };
      default:
        expectSuccess(response, `PULL_MESSAGE to ${addr}`);
        throw new Error("unreachable");
    }
  }

  /**
   * The message at a queue offset (mqadmin queryMsgByOffset).
   *
   * @throws {NotFoundError} when the queue has no message there.
   */
  async queryByOffset(topic: string, brokerName: string, queueId: number, queueOffset: number): Promise<MessageView> {
    const pulled = await this.pullMessages(topic, brokerName, queueId, queueOffset, {
      maxCount: 1,
      bodyBytesMax: BODY_VIEW_BYTES_MAX,
    });
    const found = pulled.messages.find((m) => m.queueOffset === queueOffset);
    if (!found) {
      throw new NotFoundError(
        `No message at offset ${queueOffset} of ${topic}/${brokerName}/${queueId}: ` +
          `the queue holds offsets ${pulled.minOffset} to ${pulled.maxOffset - 1}`,
      );
    }
    return found;
  }

  /**
   * Sends one message (SEND_MESSAGE_V2) to the given broker and queue, or to a writable queue of
   * the route chosen round-robin by the message count.
   */
  async sendMessage(spec: SendSpec): Promise<SendResult> {
    const topic = checkName(spec.topic, "topic");
    let route: TopicRouteData | undefined;
    try {
      route = await this.topicRoute(topic);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const candidates: { brokerName: string; queueId: number }[] = [];
    if (route) {
      for (const q of route.queueDatas) {
        if ((q.perm & 2) === 0 || (spec.brokerName && q.brokerName !== spec.brokerName)) continue;
        for (let i = 0; i < q.writeQueueNums; i++) {
          if (spec.queueId === undefined || spec.queueId === i) {
            candidates.push({ brokerName: q.brokerName, queueId: i });
          }
        }
      }
    } else if (spec.brokerName) {
      candidates.push({ brokerName: spec.brokerName, queueId: spec.queueId ?? 0 }); // auto-creation on send
    }
    if (candidates.length === 0) {
      throw new NotFoundError(
        route
          ? `Topic "${topic}" has no writable queue${spec.brokerName ? ` on broker "${spec.brokerName}"` : ""}${
            spec.queueId !== undefined ? ` with id ${spec.queueId}` : ""
          }`
          : `Topic "${topic}" not found: create it first, or give -b to let the broker auto-create it`,
      );
    }
    const target = candidates[Math.floor(Math.random() * candidates.length)];
    const addr = await this.masterAddr(target.brokerName);
    const msgId = spec.uniqKey ?? this.#ids.next();
    const properties: Record<string, string> = { ...spec.properties, UNIQ_KEY: msgId, WAIT: "true" };
    if (spec.keys) properties.KEYS = spec.keys;
    if (spec.tags) properties.TAGS = spec.tags;
    const body = typeof spec.body === "string" ? encoder.encode(spec.body) : spec.body;
    const response = await this.call(
      addr,
      RequestCode.SEND_MESSAGE_V2,
      toExtFields({
        a: spec.producerGroup ?? "TOOLS_PRODUCER",
        b: topic,
        c: "TBW102",
        d: 4,
        e: target.queueId,
        f: 0,
        g: this.#now(),
        h: 0,
        i: encodeProperties(properties),
        j: spec.reconsumeTimes ?? 0,
        k: false,
      }),
      body,
    );
    if (response.code !== ResponseCode.SUCCESS && response.code !== ResponseCode.FLUSH_DISK_TIMEOUT) {
      expectSuccess(response, `SEND_MESSAGE_V2 to ${addr}`);
    }
    return {
      brokerName: target.brokerName,
      queueId: Number(response.extFields.queueId ?? target.queueId),
      queueOffset: Number(response.extFields.queueOffset ?? -1),
      msgId,
      offsetMsgId: response.extFields.msgId ?? "",
      status: response.code === ResponseCode.SUCCESS ? "SEND_OK" : "FLUSH_DISK_TIMEOUT",
    };
  }
}

/** Checks a broker address is one of the cluster's. */
export async function requireBroker(ops: AdminOps, addr: string): Promise<ClusterBroker> {
  const found = (await ops.brokers()).find((b) => b.addr === addr);
  if (!found) throw new NotFoundError(`Broker "${addr}" is not a broker of this cluster`);
  return found;
}

export { UnreachableError };
