/**
 * All NameServer route state in one place (RocketMQ `RouteInfoManager`): which brokers serve
 * which topics, broker addresses by name and id, clusters, and broker liveness.
 *
 * Brokers register every 30 s; an entry silent for `brokerExpiryMs` (120 s) is dropped, and a
 * closed registration connection drops its broker at once. Time comes from an injected
 * {@linkcode Clock}, so expiry is tested without sleeping.
 *
 * @module
 */

import {
  type BrokerData,
  type ClusterInfo,
  type DataVersion,
  MASTER_ID,
  Perm,
  type QueueData,
  sameDataVersion,
  type TopicConfigWrapper,
  type TopicRouteData,
} from "../protocol/bodies.ts";

/** A source of the current time in ms. */
export interface Clock {
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A broker silent this long is dropped (RocketMQ `BROKER_CHANNEL_EXPIRED_TIME`). */
export const BROKER_EXPIRY_MS = 120_000;

/** Liveness of one broker address. */
interface BrokerLiveInfo {
  lastUpdateMs: number;
  dataVersion: DataVersion;
  connectionId: number | undefined;
  haServerAddr: string;
}

/** Arguments of {@linkcode RouteTable.register}. */
export interface RegisterBrokerArgs {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  topicConfigWrapper?: TopicConfigWrapper;
  filterServerList: string[];
  /** The connection the registration came on: its close drops the broker. */
  connectionId?: number;
}

/** What a registration answers a slave: its master's addresses. */
export interface RegisterBrokerResult {
  haServerAddr?: string;
  masterAddr?: string;
}

/** A broker removed by expiry or by its connection closing. */
export interface RemovedBroker {
  brokerAddr: string;
  reason: "expired" | "connection closed";
}

/** The NameServer's route tables. */
export class RouteTable {
  readonly #clock: Clock;
  readonly #brokerExpiryMs: number;
  /** topic → brokerName → queue data */
  readonly #topicQueueTable = new Map<string, Map<string, QueueData>>();
  /** brokerName → addresses */
  readonly #brokerAddrTable = new Map<string, BrokerData>();
  /** cluster → brokerNames */
  readonly #clusterAddrTable = new Map<string, Set<string>>();
  /** brokerAddr → liveness */
  readonly #brokerLiveTable = new Map<string, BrokerLiveInfo>();
  /** brokerAddr → filter servers (legacy, kept for the route body) */
  readonly #filterServerTable = new Map<string, string[]>();

  constructor(options: { clock?: Clock; brokerExpiryMs?: number } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#brokerExpiryMs = options.brokerExpiryMs ?? BROKER_EXPIRY_MS;
  }

  /** Registers (or refreshes) a broker and, for a master with changed data, its topics. */
  register(args: RegisterBrokerArgs): RegisterBrokerResult {
    let names = this.#clusterAddrTable.get(args.clusterName);
    if (!names) this.#clusterAddrTable.set(args.clusterName, names = new Set());
    names.add(args.brokerName);

    let brokerData = this.#brokerAddrTable.get(args.brokerName);
    let firstRegistration = false;
    if (!brokerData) {
      firstRegistration = true;
      brokerData = { cluster: args.clusterName, brokerName: args.brokerName, brokerAddrs: new Map() };
      this.#brokerAddrTable.set(args.brokerName, brokerData);
    }
    // One address has one id: a slave promoted to master re-registers under id 0.
    for (const [id, addr] of brokerData.brokerAddrs) {
      if (addr === args.brokerAddr && id !== args.brokerId) brokerData.brokerAddrs.delete(id);
    }
    const previousAddr = brokerData.brokerAddrs.get(args.brokerId);
    brokerData.brokerAddrs.set(args.brokerId, args.brokerAddr);
    firstRegistration ||= previousAddr === undefined;

    const wrapper = args.topicConfigWrapper;
    if (wrapper && args.brokerId === MASTER_ID) {
      const previous = this.#brokerLiveTable.get(args.brokerAddr);
      if (firstRegistration || !sameDataVersion(previous?.dataVersion, wrapper.dataVersion)) {
        for (const config of wrapper.topicConfigTable.values()) {
          let byBroker = this.#topicQueueTable.get(config.topicName);
          if (!byBroker) this.#topicQueueTable.set(config.topicName, byBroker = new Map());
          byBroker.set(args.brokerName, {
            brokerName: args.brokerName,
            readQueueNums: config.readQueueNums,
            writeQueueNums: config.writeQueueNums,
            perm: config.perm,
            topicSysFlag: config.topicSysFlag,
          });
        }
      }
    }

    this.#brokerLiveTable.set(args.brokerAddr, {
      lastUpdateMs: this.#clock.now(),
      dataVersion: wrapper?.dataVersion ?? { counter: 0, timestamp: 0 },
      connectionId: args.connectionId,
      haServerAddr: args.haServerAddr,
    });
    if (args.filterServerList.length > 0) this.#filterServerTable.set(args.brokerAddr, args.filterServerList);
    else this.#filterServerTable.delete(args.brokerAddr);

    const result: RegisterBrokerResult = {};
    if (args.brokerId !== MASTER_ID) {
      const masterAddr = brokerData.brokerAddrs.get(MASTER_ID);
      if (masterAddr) {
        const master = this.#brokerLiveTable.get(masterAddr);
        if (master) {
          result.haServerAddr = master.haServerAddr;
          result.masterAddr = masterAddr;
        }
      }
    }
    return result;
  }

  /** Removes one broker address (UNREGISTER_BROKER). */
  unregister(args: { clusterName: string; brokerAddr: string; brokerName: string; brokerId: number }): void {
    this.#brokerLiveTable.delete(args.brokerAddr);
    this.#filterServerTable.delete(args.brokerAddr);
    const brokerData = this.#brokerAddrTable.get(args.brokerName);
    if (brokerData) {
      brokerData.brokerAddrs.delete(args.brokerId);
      if (brokerData.brokerAddrs.size === 0) this.#removeBrokerName(args.brokerName, args.clusterName);
    }
  }

  /** Whether the broker's topic config differs from what was last registered. */
  isDataVersionChanged(brokerAddr: string, dataVersion: DataVersion): boolean {
    return !sameDataVersion(this.#brokerLiveTable.get(brokerAddr)?.dataVersion, dataVersion);
  }

  /** The data version last registered by a broker address. */
  dataVersionOf(brokerAddr: string): DataVersion | undefined {
    return this.#brokerLiveTable.get(brokerAddr)?.dataVersion;
  }

  /** Refreshes a broker's liveness (QUERY_DATA_VERSION with an unchanged version). */
  touch(brokerAddr: string): void {
    const live = this.#brokerLiveTable.get(brokerAddr);
    if (live) live.lastUpdateMs = this.#clock.now();
  }

  /** Route of a topic, or undefined when no live broker serves it. */
  routeOf(topic: string): TopicRouteData | undefined {
    const byBroker = this.#topicQueueTable.get(topic);
    if (!byBroker || byBroker.size === 0) return undefined;
    const queueDatas = [...byBroker.values()].map((q) => ({ ...q })).sort(byBrokerName);
    const brokerDatas: BrokerData[] = [];
    const filterServerTable = new Map<string, string[]>();
    for (const brokerName of byBroker.keys()) {
      const data = this.#brokerAddrTable.get(brokerName);
      if (!data) continue;
      brokerDatas.push({ cluster: data.cluster, brokerName, brokerAddrs: new Map(data.brokerAddrs) });
      for (const addr of data.brokerAddrs.values()) {
        const filters = this.#filterServerTable.get(addr);
        if (filters) filterServerTable.set(addr, filters);
      }
    }
    if (brokerDatas.length === 0) return undefined;
    brokerDatas.sort(byBrokerName);
    return { queueDatas, brokerDatas, filterServerTable };
  }

  /** Brokers by name and broker names by cluster. */
  clusterInfo(): ClusterInfo {
    const brokerAddrTable = new Map<string, BrokerData>();
    for (const [name, data] of this.#brokerAddrTable) {
      brokerAddrTable.set(name, { ...data, brokerAddrs: new Map(data.brokerAddrs) });
    }
    const clusterAddrTable = new Map<string, Set<string>>();
    for (const [cluster, names] of this.#clusterAddrTable) clusterAddrTable.set(cluster, new Set(names));
    return { brokerAddrTable, clusterAddrTable };
  }

  /** Every topic with a route. */
  allTopics(): string[] {
    return [...this.#topicQueueTable.keys()];
  }

  /** Topics served by any broker of `cluster`. */
  topicsOfCluster(cluster: string): string[] {
    const names = this.#clusterAddrTable.get(cluster);
    if (!names) return [];
    const topics: string[] = [];
    for (const [topic, byBroker] of this.#topicQueueTable) {
      for (const brokerName of byBroker.keys()) {
        if (names.has(brokerName)) {
          topics.push(topic);
          break;
        }
      }
    }
    return topics;
  }

  /** Cluster and broker names (they are system topics), and one broker address. */
  systemTopics(): { topics: string[]; brokerAddr?: string } {
    const topics = new Set<string>();
    let brokerAddr: string | undefined;
    for (const [cluster, names] of this.#clusterAddrTable) {
      topics.add(cluster);
      for (const name of names) {
        topics.add(name);
        brokerAddr ??= this.#brokerAddrTable.get(name)?.brokerAddrs.values().next().value;
      }
    }
    return { topics: [...topics], brokerAddr };
  }

  /** Topics whose first queue data's sysFlag satisfies `predicate` (unit-topic listings). */
  topicsBySysFlag(predicate: (sysFlag: number) => boolean): string[] {
    const topics: string[] = [];
    for (const [topic, byBroker] of this.#topicQueueTable) {
      const first = byBroker.values().next().value;
      if (first && predicate(first.topicSysFlag)) topics.push(topic);
    }
    return topics;
  }

  /** Clears PERM_WRITE on every queue data of `brokerName`; returns how many topics changed. */
  wipeWritePerm(brokerName: string): number {
    return this.#updatePerm(brokerName, (perm) => perm & ~Perm.WRITE);
  }

  /** Sets perm to READ|WRITE on every queue data of `brokerName`; returns how many topics changed. */
  addWritePerm(brokerName: string): number {
    return this.#updatePerm(brokerName, () => Perm.READ | Perm.WRITE);
  }

  #updatePerm(brokerName: string, update: (perm: number) => number): number {
    let count = 0;
    for (const byBroker of this.#topicQueueTable.values()) {
      const queueData = byBroker.get(brokerName);
      if (queueData) {
        queueData.perm = update(queueData.perm);
        count++;
      }
    }
    return count;
  }

  /** Deletes a topic's routes, only those of `clusterName`'s brokers when given. */
  deleteTopic(topic: string, clusterName?: string): void {
    if (!clusterName) {
      this.#topicQueueTable.delete(topic);
      return;
    }
    const byBroker = this.#topicQueueTable.get(topic);
    const names = this.#clusterAddrTable.get(clusterName);
    if (!byBroker || !names) return;
    for (const name of names) byBroker.delete(name);
    if (byBroker.size === 0) this.#topicQueueTable.delete(topic);
  }

  /** Drops brokers silent for longer than the expiry; returns what was removed. */
  expire(): RemovedBroker[] {
    const now = this.#clock.now();
    const removed: RemovedBroker[] = [];
    for (const [brokerAddr, live] of this.#brokerLiveTable) {
      if (now - live.lastUpdateMs > this.#brokerExpiryMs) {
        this.#removeBrokerAddr(brokerAddr);
        removed.push({ brokerAddr, reason: "expired" });
      }
    }
    return removed;
  }

  /** Drops every broker that registered over the closed connection. */
  connectionClosed(connectionId: number): RemovedBroker[] {
    const removed: RemovedBroker[] = [];
    for (const [brokerAddr, live] of this.#brokerLiveTable) {
      if (live.connectionId === connectionId) {
        this.#removeBrokerAddr(brokerAddr);
        removed.push({ brokerAddr, reason: "connection closed" });
      }
    }
    return removed;
  }

  #removeBrokerAddr(brokerAddr: string): void {
    this.#brokerLiveTable.delete(brokerAddr);
    this.#filterServerTable.delete(brokerAddr);
    for (const [brokerName, data] of this.#brokerAddrTable) {
      for (const [id, addr] of data.brokerAddrs) {
        if (addr === brokerAddr) data.brokerAddrs.delete(id);
      }
      if (data.brokerAddrs.size === 0) this.#removeBrokerName(brokerName, data.cluster);
    }
  }

  #removeBrokerName(brokerName: string, clusterName: string): void {
    this.#brokerAddrTable.delete(brokerName);
    for (const [cluster, names] of this.#clusterAddrTable) {
      if (cluster !== clusterName && !names.has(brokerName)) continue;
      names.delete(brokerName);
      if (names.size === 0) this.#clusterAddrTable.delete(cluster);
    }
    for (const [topic, byBroker] of this.#topicQueueTable) {
      byBroker.delete(brokerName);
      if (byBroker.size === 0) this.#topicQueueTable.delete(topic);
    }
  }
}

function byBrokerName(a: { brokerName: string }, b: { brokerName: string }): number {
  return a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0;
}
