/**
 * Topic routes from the NameServers: which brokers hold a topic's queues and at which address.
 *
 * - **Failover**: a call goes to the NameServer that last answered; a connection failure or
 *   timeout moves on to the next address of the list (round robin), each tried at most once per
 *   call.
 * - **Cache**: routes are kept per topic and refreshed by the owning client every 30 s (Java's
 *   `pollNameServerInterval`) and whenever a send or pull fails; listeners hear about changes.
 * - **Auto-create**: for a topic the NameServer does not know, a producer may borrow the route of
 *   the `TBW102` template topic (queues capped at `defaultTopicQueueNums`), as Java does; the
 *   broker then creates the topic on first send.
 *
 * Imports `protocol/` and the remoting client only.
 *
 * @module
 */

import { createRequest } from "../protocol/command.ts";
import { decodeJsonBody, MASTER_ID, Perm, readTopicRouteData, type TopicRouteData } from "../protocol/bodies.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { stringifyFastJson } from "../protocol/fastjson.ts";
import { errorText, type Logger } from "./_log.ts";
import { BrokerResponseError } from "./errors.ts";
import { compareQueues, type MessageQueue } from "./message.ts";
import { type RemotingClient, RemotingTransportError } from "./remoting_client.ts";

/** Where a producer may send for one topic. */
export interface TopicPublishInfo {
  readonly topic: string;
  /** The NameServer declared the topic ordered (`orderTopicConf`). */
  readonly orderTopic: boolean;
  /** Writable queues, sorted by broker name then queue id. */
  readonly queues: readonly MessageQueue[];
  /** Write-queue count per broker name. */
  readonly writeQueueNums: ReadonlyMap<string, number>;
  /** True when borrowed from the auto-create template topic. */
  readonly fromDefaultTopic: boolean;
}

/**
 * Java's `topicRouteData2TopicPublishInfo`: with `orderTopicConf` (`"b1:4;b2:4"`) the queues are
 * listed per broker in that order; otherwise every writable QueueData whose broker has a master
 * contributes queues `0..writeQueueNums-1`, brokers in name order.
 */
export function publishInfoFromRoute(topic: string, route: TopicRouteData, fromDefaultTopic = false): TopicPublishInfo {
  const queues: MessageQueue[] = [];
  const writeQueueNums = new Map<string, number>();
  if (route.orderTopicConf) {
    for (const item of route.orderTopicConf.split(";")) {
      const [brokerName, nums] = item.split(":");
      const count = Number(nums);
      if (!brokerName || !Number.isInteger(count)) continue;
      writeQueueNums.set(brokerName, count);
      for (let i = 0; i < count; i++) queues.push({ topic, brokerName, queueId: i });
    }
    return { topic, orderTopic: true, queues, writeQueueNums, fromDefaultTopic };
  }
  const sorted = [...route.queueDatas].sort((
    a,
    b,
  ) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
  for (const queueData of sorted) {
    if ((queueData.perm & Perm.WRITE) === 0) continue;
    const broker = route.brokerDatas.find((b) => b.brokerName === queueData.brokerName);
    if (!broker || !broker.brokerAddrs.has(MASTER_ID)) continue;
    writeQueueNums.set(queueData.brokerName, queueData.writeQueueNums);
    for (let i = 0; i < queueData.writeQueueNums; i++) {
      queues.push({ topic, brokerName: queueData.brokerName, queueId: i });
    }
  }
  return { topic, orderTopic: false, queues, writeQueueNums, fromDefaultTopic };
}

/** Java's `topicRouteData2TopicSubscribeInfo`: every readable queue, sorted. */
export function subscribeQueuesFromRoute(topic: string, route: TopicRouteData): MessageQueue[] {
  const queues: MessageQueue[] = [];
  for (const queueData of route.queueDatas) {
    if ((queueData.perm & Perm.READ) === 0) continue;
    for (let i = 0; i < queueData.readQueueNums; i++) {
      queues.push({ topic, brokerName: queueData.brokerName, queueId: i });
    }
  }
  return queues.sort(compareQueues);
}

/** The template topic's route with every queue count capped at `queueNums` (Java's auto-create path). */
export function routeFromDefaultTopic(template: TopicRouteData, queueNums: number): TopicRouteData {
  return {
    ...template,
    queueDatas: template.queueDatas.map((q) => {
      const nums = Math.min(queueNums, q.readQueueNums);
      return { ...q, readQueueNums: nums, writeQueueNums: nums };
    }),
  };
}

/** Options for {@linkcode RouteCache}. */
export interface RouteCacheOptions {
  /** NameServer addresses, `host:port`. */
  nameServers: readonly string[];
  remoting: RemotingClient;
  /** Timeout of one NameServer call. */
  timeoutMs: number;
  logger: Logger;
  /** Called after a topic's route changed (or appeared). */
  onChange?: (topic: string) => void;
}

interface CachedRoute {
  route: TopicRouteData;
  json: string;
  fromDefaultTopic: boolean;
  publish?: TopicPublishInfo;
  subscribe?: MessageQueue[];
}

/** Cached topic routes and the broker address table derived from them. */
export class RouteCache {
  readonly #nameServers: readonly string[];
  readonly #remoting: RemotingClient;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #onChange?: (topic: string) => void;
  readonly #routes = new Map<string, CachedRoute>();
  readonly #inflight = new Map<string, Promise<TopicRouteData | undefined>>();
  /** brokerName → brokerId → address, from every cached route. */
  #brokerAddrs = new Map<string, Map<number, string>>();
  #nameServerIndex: number;

  constructor(options: RouteCacheOptions) {
    if (options.nameServers.length === 0) throw new TypeError("Cannot create route cache: no NameServer address given");
    this.#nameServers = options.nameServers;
    this.#remoting = options.remoting;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    this.#onChange = options.onChange;
    // Spread clients over the NameServers, as Java picks a random start index.
    this.#nameServerIndex = Math.floor(Math.random() * options.nameServers.length);
  }

  /** The NameServer list. */
  get nameServers(): readonly string[] {
    return this.#nameServers;
  }

  /** Topics with a cached route. */
  topics(): string[] {
    return [...this.#routes.keys()];
  }

  /** The cached route of `topic`. */
  route(topic: string): TopicRouteData | undefined {
    return this.#routes.get(topic)?.route;
  }

  /** Publish info of the cached route, or undefined. */
  publishInfo(topic: string): TopicPublishInfo | undefined {
    const cached = this.#routes.get(topic);
    if (!cached) return undefined;
    return cached.publish ??= publishInfoFromRoute(topic, cached.route, cached.fromDefaultTopic);
  }

  /** Readable queues of the cached route, or undefined. */
  subscribeQueues(topic: string): MessageQueue[] | undefined {
    const cached = this.#routes.get(topic);
    if (!cached || cached.fromDefaultTopic) return undefined;
    return cached.subscribe ??= subscribeQueuesFromRoute(topic, cached.route);
  }

  /** The master address of a broker name. */
  masterAddr(brokerName: string): string | undefined {
    return this.#brokerAddrs.get(brokerName)?.get(MASTER_ID);
  }

  /**
   * Java's `findBrokerAddressInSubscribe`: the address of `brokerId` if known, else (unless
   * `onlyThisBroker`) any address of the broker name, preferring the master.
   */
  subscribeAddr(
    brokerName: string,
    brokerId = MASTER_ID,
    onlyThisBroker = false,
  ): { addr: string; slave: boolean } | undefined {
    const addrs = this.#brokerAddrs.get(brokerName);
    if (!addrs || addrs.size === 0) return undefined;
    const exact = addrs.get(brokerId);
    if (exact) return { addr: exact, slave: brokerId !== MASTER_ID };
    if (onlyThisBroker) return undefined;
    const master = addrs.get(MASTER_ID);
    if (master) return { addr: master, slave: false };
    const [id, addr] = addrs.entries().next().value!;
    return { addr, slave: id !== MASTER_ID };
  }

  /** Every known broker address (`masterOnly`: id 0 only), deduplicated. */
  brokerAddrs(masterOnly = false): Map<string, { brokerName: string; brokerId: number }> {
    const out = new Map<string, { brokerName: string; brokerId: number }>();
    for (const [brokerName, addrs] of this.#brokerAddrs) {
      for (const [brokerId, addr] of addrs) {
        if (masterOnly && brokerId !== MASTER_ID) continue;
        out.set(addr, { brokerName, brokerId });
      }
    }
    return out;
  }

  /** Some broker address serving `topic` (Java's `findBrokerAddrByTopic`), master preferred. */
  anyBrokerAddrOf(topic: string): string | undefined {
    const route = this.#routes.get(topic)?.route;
    if (!route || route.brokerDatas.length === 0) return undefined;
    const broker = route.brokerDatas[Math.floor(Math.random() * route.brokerDatas.length)];
    return broker.brokerAddrs.get(MASTER_ID) ?? broker.brokerAddrs.values().next().value;
  }

  /**
   * Fetches `topic`'s route and caches it. With `defaultTopic`, a topic the NameServer does not
   * know gets the template's route (queues capped) instead — unless a real route is cached.
   *
   * @returns the route now cached, or undefined if the topic has none.
   * @throws {RemotingTransportError} when no NameServer answers.
   * @throws {BrokerResponseError} on an unexpected response code.
   */
  async update(
    topic: string,
    defaultTopic?: { topic: string; queueNums: number },
  ): Promise<TopicRouteData | undefined> {
    const route = await this.#fetchDeduplicated(topic);
    if (route) {
      this.#store(topic, route, false);
      return route;
    }
    const cached = this.#routes.get(topic);
    if (defaultTopic && (!cached || cached.fromDefaultTopic)) {
      const template = await this.#fetchDeduplicated(defaultTopic.topic);
      if (template) {
        const borrowed = routeFromDefaultTopic(template, defaultTopic.queueNums);
        this.#store(topic, borrowed, true);
        return borrowed;
      }
    }
    return cached?.route;
  }

  /** Refreshes every cached topic; failures are logged and leave the old route in place. */
  async refreshAll(): Promise<void> {
    await Promise.all(
      this.topics().map(async (topic) => {
        try {
          await this.update(topic);
        } catch (error) {
          this.#logger.warn("Cannot refresh topic route", { topic, error: errorText(error) });
        }
      }),
    );
  }

  /** Drops a topic from the cache. */
  forget(topic: string): void {
    if (this.#routes.delete(topic)) this.#rebuildBrokerAddrs();
  }

  /**
   * Sends a request to the NameServers with failover: the current one first, then each other
   * address once.
   *
   * @throws {RemotingTransportError} when every NameServer failed.
   */
  async invokeNameServer(
    request: Parameters<RemotingClient["invoke"]>[1],
  ): Promise<Awaited<ReturnType<RemotingClient["invoke"]>>> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < this.#nameServers.length; attempt++) {
      const index = (this.#nameServerIndex + attempt) % this.#nameServers.length;
      const addr = this.#nameServers[index];
      try {
        const response = await this.#remoting.invoke(addr, request, this.#timeoutMs);
        this.#nameServerIndex = index;
        return response;
      } catch (error) {
        if (!(error instanceof RemotingTransportError)) throw error;
        lastError = error;
        this.#logger.warn("NameServer call failed; trying the next one", { addr, error: errorText(error) });
      }
    }
    this.#nameServerIndex = (this.#nameServerIndex + 1) % this.#nameServers.length;
    throw new RemotingTransportError(
      `No NameServer answered (${this.#nameServers.join(", ")}): ${lastError?.message ?? "no address"}`,
      { cause: lastError },
    );
  }

  #fetchDeduplicated(topic: string): Promise<TopicRouteData | undefined> {
    const running = this.#inflight.get(topic);
    if (running) return running;
    const pending = this.#fetch(topic).finally(() => this.#inflight.delete(topic));
    this.#inflight.set(topic, pending);
    return pending;
  }

  async #fetch(topic: string): Promise<TopicRouteData | undefined> {
    const response = await this.invokeNameServer(createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
    if (response.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    if (response.code !== ResponseCode.SUCCESS) {
      throw new BrokerResponseError(
        response.code,
        `Cannot get the route of topic "${topic}": NameServer answered ${response.code} ${response.remark ?? ""}`
          .trim(),
        response.remark,
      );
    }
    return readTopicRouteData(decodeJsonBody(response.body, `route of topic "${topic}"`));
  }

  #store(topic: string, route: TopicRouteData, fromDefaultTopic: boolean): void {
    const json = routeFingerprint(route);
    const old = this.#routes.get(topic);
    if (old && old.json === json && old.fromDefaultTopic === fromDefaultTopic) return;
    this.#routes.set(topic, { route, json, fromDefaultTopic });
    this.#rebuildBrokerAddrs();
    this.#logger.info("Topic route changed", { topic, route: json });
    this.#onChange?.(topic);
  }

  #rebuildBrokerAddrs(): void {
    const table = new Map<string, Map<number, string>>();
    for (const { route } of this.#routes.values()) {
      for (const broker of route.brokerDatas) {
        let addrs = table.get(broker.brokerName);
        if (!addrs) table.set(broker.brokerName, addrs = new Map());
        for (const [id, addr] of broker.brokerAddrs) addrs.set(id, addr);
      }
    }
    this.#brokerAddrs = table;
  }
}

/** A canonical text of a route, for change detection. */
function routeFingerprint(route: TopicRouteData): string {
  const queueDatas = [...route.queueDatas].sort((a, b) => (a.brokerName < b.brokerName ? -1 : 1));
  const brokerDatas = [...route.brokerDatas]
    .sort((a, b) => (a.brokerName < b.brokerName ? -1 : 1))
    .map((b) => ({ ...b, brokerAddrs: new Map([...b.brokerAddrs].sort((x, y) => x[0] - y[0])) }));
  return stringifyFastJson({ orderTopicConf: route.orderTopicConf, queueDatas, brokerDatas });
}
