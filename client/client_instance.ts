/**
 * The connection layer every producer and consumer stands on (Java's `MQClientInstance` and
 * `MQClientAPIImpl`): the client id, the remoting connections, the route cache with its 30 s
 * refresh, heartbeats to every broker in use every 30 s, answers to the requests brokers send
 * us, the broker calls consumers need (pull, offsets, locks, send-back), and the unregistering
 * shutdown.
 *
 * Each producer or consumer owns one instance, so two group members in one process are two
 * clients to the broker, as they would be in two processes.
 *
 * Imports `protocol/` and the other client files only; runtime-neutral (`node:os` and
 * `node:process` are available under Deno and Node).
 *
 * @module
 */

import type { AclCredentials } from "../protocol/acl_signature.ts";
import { networkInterfaces } from "node:os";
import process from "node:process";
import {
  createRequest,
  createResponse,
  type ExtFields,
  type RemotingCommand,
  SerializeType,
} from "../protocol/command.ts";
import { decodeJsonBody, encodeJsonBody, MASTER_ID } from "../protocol/bodies.ts";
import { decodeMessageRecord, parseIp, parseProperties } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { Periodic } from "./_async.ts";
import { consoleLogger, errorText, type Logger } from "./_log.ts";
import type { Connect } from "./_transport.ts";
import { BrokerResponseError, ClientClosedError } from "./errors.ts";
import { mapEntries, type MessageQueue, queueJson, readQueue, ReceivedMessage } from "./message.ts";
import { RemotingClient, RemotingTransportError } from "./remoting_client.ts";
import { RouteCache } from "./route_cache.ts";

/** Options every client (producer or consumer) accepts. */
export interface ClientOptions {
  /** NameServer addresses: `"host:port"`, `"a:9876;b:9876"`, or a list. */
  nameServer: string | readonly string[];
  /**
   * Second part of the client id `ip@instanceName`. Defaults to `<pid>#<counter>` (unique per
   * client object); broadcasting consumers default to `DEFAULT`, as in Java, so their local
   * offset file is found again after a restart.
   */
  instanceName?: string;
  /** First part of the client id; defaults to the first non-internal IPv4 address, else 127.0.0.1. */
  clientIp?: string;
  /** Optional third part of the client id. */
  unitName?: string;
  /** Timeout of ordinary broker and NameServer calls (Java: 3 s). */
  requestTimeoutMs?: number;
  /** Heartbeat period (Java: 30 s). */
  heartbeatIntervalMs?: number;
  /** Route refresh period (Java `pollNameServerInterval`: 30 s). */
  pollNameServerIntervalMs?: number;
  /** First reconnect wait after a failed connect; doubles per failure up to `reconnectBackoffMaxMs`. */
  reconnectBackoffMs?: number;
  /** Cap of the reconnect wait. */
  reconnectBackoffMaxMs?: number;
  /** Where to log; default: warnings and errors on stderr. */
  logger?: Logger;
  /** Transport seam, for tests. */
  connect?: Connect;
  /** ACL 1.0 credentials: every request is signed with them (brokers with `aclEnable=true`). */
  credentials?: AclCredentials;
  /**
   * Header serialization of requests: `"ROCKETMQ"` (default: RocketMQ's binary headers, which
   * every 4.x broker and NameServer reads, as Java clients send them with
   * `rocketmq.serialize.type=ROCKETMQ`; several times cheaper to write and read than JSON) or
   * `"JSON"` (Java's default).
   */
  serializeType?: "ROCKETMQ" | "JSON";
}

/** The producer group every consumer's heartbeat lists, as Java's inner producer does. */
export const CLIENT_INNER_PRODUCER_GROUP = "CLIENT_INNER_PRODUCER";

/** How a consumer consumes, as the broker sees it. */
export type ConsumeType = "CONSUME_ACTIVELY" | "CONSUME_PASSIVELY";
/** Clustering (queues shared by the group) or broadcasting (every member gets everything). */
export type MessageModel = "CLUSTERING" | "BROADCASTING";
/** Where a consumer without a committed offset starts. */
export type ConsumeFromWhere = "CONSUME_FROM_LAST_OFFSET" | "CONSUME_FROM_FIRST_OFFSET" | "CONSUME_FROM_TIMESTAMP";

/** Java's `ConsumeMessageDirectlyResult.consumeResult`. */
export type DirectConsumeResult =
  | "CR_SUCCESS"
  | "CR_LATER"
  | "CR_ROLLBACK"
  | "CR_COMMIT"
  | "CR_THROW_EXCEPTION"
  | "CR_RETURN_NULL";

/** What a consumer registered with an instance must provide. */
export interface ConsumerMember {
  readonly group: string;
  /** `ConsumerData` JSON for heartbeats. */
  heartbeatData(): Record<string, unknown>;
  /** Topics whose routes this consumer needs. */
  topics(): string[];
  /** NOTIFY_CONSUMER_IDS_CHANGED: rebalance soon. */
  rebalanceNow(): void;
  /** `ConsumerRunningInfo` JSON value (MessageQueue-keyed maps as `Map`). */
  runningInfo(): Record<string, unknown>;
  /** CONSUME_MESSAGE_DIRECTLY. */
  consumeDirectly?(message: ReceivedMessage): Promise<{ result: DirectConsumeResult; remark?: string; order: boolean }>;
  /** RESET_CONSUMER_CLIENT_OFFSET. */
  resetOffset?(topic: string, offsets: Map<string, { queue: MessageQueue; queueOffset: number }>): Promise<void>;
  /** GET_CONSUMER_STATUS_FROM_CLIENT: committed offsets of a topic's queues. */
  consumerStatus?(topic: string): Array<[MessageQueue, number]>;
}

/** A pull reply. */
export interface PullResult {
  status: "FOUND" | "NO_NEW_MSG" | "NO_MATCHED_MSG" | "OFFSET_ILLEGAL";
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  suggestWhichBrokerId: number;
  /** Raw records, when FOUND. */
  body?: Uint8Array;
}

/** PULL_MESSAGE request header fields. */
export interface PullRequestHeader {
  consumerGroup: string;
  queue: MessageQueue;
  queueOffset: number;
  maxMsgNums: number;
  sysFlag: number;
  commitOffset: number;
  suspendTimeoutMillis: number;
  subscription?: string;
  subVersion: number;
  expressionType?: string;
}

/** PullSysFlag bits. */
export const PullSysFlag = {
  COMMIT_OFFSET: 0x1,
  SUSPEND: 0x2,
  SUBSCRIPTION: 0x4,
  CLASS_FILTER: 0x8,
  LITE_PULL: 0x10,
} as const;

let instanceCounter = 0;

/** The first non-internal IPv4 address of this host, else 127.0.0.1. */
export function localIpv4(): string {
  try {
    const candidates: string[] = [];
    for (const list of Object.values(networkInterfaces())) {
      for (const entry of list ?? []) {
        if (entry.family === "IPv4" && !entry.internal) candidates.push(entry.address);
      }
    }
    return candidates[0] ?? "127.0.0.1";
  } catch {
    // No permission to list interfaces (Deno without --allow-sys): loopback still identifies us.
    return "127.0.0.1";
  }
}

/** Parses the `nameServer` option into a list of addresses. */
export function parseNameServers(value: string | readonly string[]): string[] {
  const list = (typeof value === "string" ? value.split(";") : [...value]).map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) throw new TypeError("Cannot create client: the nameServer option has no address");
  for (const addr of list) {
    const colon = addr.lastIndexOf(":");
    const port = Number(addr.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new TypeError(`Cannot create client: NameServer address "${addr}" is not host:port`);
    }
  }
  return list;
}

/** Options an owner adds when creating its instance. */
export interface InstanceRole {
  /** Producer group, if the owner produces. */
  producerGroup?: string;
  /** Default instance name (`DEFAULT` for broadcasting consumers). */
  defaultInstanceName?: string;
}

/** One client's connections, routes, heartbeats and broker calls. */
export class ClientInstance {
  readonly clientId: string;
  readonly clientIp: string;
  readonly logger: Logger;
  readonly remoting: RemotingClient;
  readonly routes: RouteCache;
  readonly timeoutMs: number;
  readonly #producerGroups = new Set<string>();
  readonly #consumers = new Map<string, ConsumerMember>();
  readonly #heartbeat: Periodic;
  readonly #routePoll: Periodic;
  readonly #routeListeners = new Set<(topic: string) => void>();
  /** Broker addresses that took a heartbeat from us. */
  readonly #heartbeated = new Set<string>();
  readonly #refreshing = new Set<string>();
  #started = false;
  #closed = false;

  constructor(options: ClientOptions, role: InstanceRole = {}) {
    const nameServers = parseNameServers(options.nameServer);
    this.logger = options.logger ?? consoleLogger;
    this.timeoutMs = positive(options.requestTimeoutMs ?? 3000, "requestTimeoutMs");
    this.clientIp = options.clientIp ?? localIpv4();
    parseIp(this.clientIp); // throws ProtocolError for a non-literal address
    const instanceName = options.instanceName ?? role.defaultInstanceName ?? `${process.pid}#${++instanceCounter}`;
    this.clientId = `${this.clientIp}@${instanceName}${options.unitName ? `@${options.unitName}` : ""}`;
    this.remoting = new RemotingClient({
      timeoutMs: this.timeoutMs,
      connectTimeoutMs: this.timeoutMs,
      reconnectBackoffMs: options.reconnectBackoffMs,
      reconnectBackoffMaxMs: options.reconnectBackoffMaxMs,
      onServerRequest: (request, addr) => this.#serveRequest(request, addr),
      connect: options.connect,
      credentials: options.credentials,
      serializeType: options.serializeType === "JSON" ? SerializeType.JSON : SerializeType.ROCKETMQ,
    });
    this.routes = new RouteCache({
      nameServers,
      remoting: this.remoting,
      timeoutMs: this.timeoutMs,
      logger: this.logger,
      onChange: (topic) => void this.#routeChanged(topic),
    });
    if (role.producerGroup) this.#producerGroups.add(role.producerGroup);
    const onError = (what: string) => (error: unknown) => this.logger.warn(what, { error: errorText(error) });
    this.#heartbeat = new Periodic(
      positive(options.heartbeatIntervalMs ?? 30000, "heartbeatIntervalMs"),
      () => this.heartbeatAll(),
      onError("Heartbeat round failed"),
    );
    this.#routePoll = new Periodic(
      positive(options.pollNameServerIntervalMs ?? 30000, "pollNameServerIntervalMs"),
      () => this.#pollRoutes(),
      onError("Route refresh failed"),
    );
  }

  /** Whether `shutdown()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Registers a consumer (one per group). */
  registerConsumer(member: ConsumerMember): void {
    if (this.#consumers.has(member.group)) {
      throw new TypeError(
        `Cannot register consumer: group "${member.group}" is already registered on ${this.clientId}`,
      );
    }
    this.#consumers.set(member.group, member);
  }

  /** Hears about route changes. */
  onRouteChange(listener: (topic: string) => void): void {
    this.#routeListeners.add(listener);
  }

  /** Starts the heartbeat and route timers (idempotent). */
  start(): void {
    if (this.#closed) throw new ClientClosedError(`Cannot start client ${this.clientId}: it was shut down`);
    if (this.#started) return;
    this.#started = true;
    this.#heartbeat.start();
    this.#routePoll.start();
  }

  /** Throws if the instance is shut down. */
  assertOpen(what: string): void {
    if (this.#closed) throw new ClientClosedError(`Cannot ${what}: the client was shut down`);
  }

  /** The heartbeat body of every registered member. */
  heartbeatBody(): Uint8Array {
    const producers = [...this.#producerGroups].map((groupName) => ({ groupName }));
    if (this.#consumers.size > 0) producers.push({ groupName: CLIENT_INNER_PRODUCER_GROUP });
    return encodeJsonBody({
      clientID: this.clientId,
      consumerDataSet: [...this.#consumers.values()].map((c) => c.heartbeatData()),
      producerDataSet: producers,
    });
  }

  /**
   * Sends HEART_BEAT to every broker in the cached routes (masters only for a producer-only
   * client). Failures are logged; one broker's failure does not stop the others.
   */
  async heartbeatAll(): Promise<void> {
    if (this.#closed) return;
    const body = this.heartbeatBody();
    const addrs = this.routes.brokerAddrs(this.#consumers.size === 0);
    await Promise.all([...addrs.keys()].map(async (addr) => {
      try {
        const response = await this.remoting.invoke(addr, createRequest(RequestCode.HEART_BEAT, {}, { body }));
        if (response.code === ResponseCode.SUCCESS) this.#heartbeated.add(addr);
        else this.logger.warn("Heartbeat refused", { addr, code: response.code, remark: response.remark });
      } catch (error) {
        this.logger.warn("Heartbeat failed", { addr, error: errorText(error) });
      }
    }));
  }

  /**
   * A route changed: a broker we never sent a heartbeat to must know our consumer groups before
   * anyone asks it for the group's members, so heartbeat first, then tell the listeners.
   */
  async #routeChanged(topic: string): Promise<void> {
    const masterOnly = this.#consumers.size === 0;
    const fresh = [...this.routes.brokerAddrs(masterOnly).keys()].some((addr) => !this.#heartbeated.has(addr));
    if (fresh && this.#started && !this.#closed) await this.heartbeatAll();
    for (const listener of this.#routeListeners) listener(topic);
  }

  /**
   * Refreshes `topic`'s route in the background, as after a failed send or pull; one refresh
   * per topic at a time, failures logged.
   */
  refreshRouteSoon(topic: string): void {
    if (this.#closed || this.#refreshing.has(topic)) return;
    this.#refreshing.add(topic);
    this.routes.update(topic)
      .catch((error) => this.logger.debug("Cannot refresh topic route", { topic, error: errorText(error) }))
      .finally(() => this.#refreshing.delete(topic));
  }

  /** Refreshes routes now (and the members' topics). */
  async refreshRoutes(): Promise<void> {
    await this.#pollRoutes();
  }

  async #pollRoutes(): Promise<void> {
    const topics = new Set(this.routes.topics());
    for (const consumer of this.#consumers.values()) for (const topic of consumer.topics()) topics.add(topic);
    await Promise.all([...topics].map(async (topic) => {
      try {
        await this.routes.update(topic);
      } catch (error) {
        this.logger.warn("Cannot refresh topic route", { topic, error: errorText(error) });
      }
    }));
  }

  /**
   * Stops the timers, sends UNREGISTER_CLIENT to every broker, and closes every connection.
   * Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#heartbeat.stop(), this.#routePoll.stop()]);
    const addrs = [...this.routes.brokerAddrs(false).keys()];
    const groups = [
      ...[...this.#producerGroups].map((g) => ({ producerGroup: g })),
      ...[...this.#consumers.keys()].map((g) => ({ consumerGroup: g })),
    ];
    await Promise.all(addrs.flatMap((addr) =>
      groups.map(async (group) => {
        try {
          await this.remoting.invoke(
            addr,
            createRequest(RequestCode.UNREGISTER_CLIENT, { clientID: this.clientId, ...group }),
            Math.min(this.timeoutMs, 1000),
          );
        } catch (error) {
          this.logger.info("Cannot unregister from broker", { addr, error: errorText(error) });
        }
      })
    ));
    await this.remoting.close();
  }

  /** Calls `addr` and checks for SUCCESS. */
  async call(
    addr: string,
    request: RemotingCommand,
    what: string,
    timeoutMs = this.timeoutMs,
  ): Promise<RemotingCommand> {
    const response = await this.remoting.invoke(addr, request, timeoutMs);
    if (response.code !== ResponseCode.SUCCESS) throw responseError(response, what, addr);
    return response;
  }

  /**
   * The address serving `queue`'s broker: the master, or with `allowSlave` any node. Refreshes
   * the route once when the broker is unknown.
   *
   * @throws {RemotingTransportError} when the broker has no known address.
   */
  async brokerAddr(queue: MessageQueue, allowSlave = false): Promise<string> {
    const find = () =>
      allowSlave ? this.routes.subscribeAddr(queue.brokerName)?.addr : this.routes.masterAddr(queue.brokerName);
    let addr = find();
    if (!addr) {
      await this.routes.update(queue.topic);
      addr = find();
    }
    if (!addr) {
      throw new RemotingTransportError(
        `Cannot reach broker "${queue.brokerName}" of topic "${queue.topic}": it has no ${
          allowSlave ? "" : "master "
        }address`,
      );
    }
    return addr;
  }

  /** PULL_MESSAGE. */
  async pull(addr: string, header: PullRequestHeader, timeoutMs: number): Promise<PullResult> {
    const fields: ExtFields = {
      consumerGroup: header.consumerGroup,
      topic: header.queue.topic,
      queueId: String(header.queue.queueId),
      queueOffset: String(header.queueOffset),
      maxMsgNums: String(header.maxMsgNums),
      sysFlag: String(header.sysFlag),
      commitOffset: String(header.commitOffset),
      suspendTimeoutMillis: String(header.suspendTimeoutMillis),
      subVersion: String(header.subVersion),
      bname: header.queue.brokerName,
    };
    if (header.subscription !== undefined) fields.subscription = header.subscription;
    if (header.expressionType !== undefined) fields.expressionType = header.expressionType;
    const response = await this.remoting.invoke(addr, createRequest(RequestCode.PULL_MESSAGE, fields), timeoutMs);
    let status: PullResult["status"];
    switch (response.code) {
      case ResponseCode.SUCCESS:
        status = "FOUND";
        break;
      case ResponseCode.PULL_NOT_FOUND:
        status = "NO_NEW_MSG";
        break;
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
        status = "NO_MATCHED_MSG";
        break;
      case ResponseCode.PULL_OFFSET_MOVED:
        status = "OFFSET_ILLEGAL";
        break;
      default:
        throw responseError(response, `pull ${describeQueue(header.queue)}`, addr);
    }
    const ext = response.extFields;
    return {
      status,
      nextBeginOffset: longField(ext, "nextBeginOffset", header.queueOffset),
      minOffset: longField(ext, "minOffset", 0),
      maxOffset: longField(ext, "maxOffset", 0),
      suggestWhichBrokerId: longField(ext, "suggestWhichBrokerId", MASTER_ID),
      body: response.body,
    };
  }

  /**
   * QUERY_CONSUMER_OFFSET at the queue's master.
   *
   * @returns the committed offset, or undefined when the broker has none (QUERY_NOT_FOUND).
   */
  async queryConsumerOffset(group: string, queue: MessageQueue): Promise<number | undefined> {
    const addr = await this.brokerAddr(queue);
    const response = await this.remoting.invoke(
      addr,
      createRequest(RequestCode.QUERY_CONSUMER_OFFSET, {
        consumerGroup: group,
        topic: queue.topic,
        queueId: String(queue.queueId),
        bname: queue.brokerName,
      }),
    );
    if (response.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
    if (response.code !== ResponseCode.SUCCESS) {
      throw responseError(response, `query offset of ${describeQueue(queue)}`, addr);
    }
    return longField(response.extFields, "offset", 0);
  }

  /** UPDATE_CONSUMER_OFFSET at the queue's master; `oneway` as Java's periodic persist does. */
  async updateConsumerOffset(group: string, queue: MessageQueue, queueOffset: number, oneway: boolean): Promise<void> {
    const addr = await this.brokerAddr(queue);
    const request = createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: group,
      topic: queue.topic,
      queueId: String(queue.queueId),
      commitOffset: String(queueOffset),
      bname: queue.brokerName,
    });
    if (oneway) await this.remoting.invokeOneway(addr, request);
    else await this.call(addr, request, `commit offset of ${describeQueue(queue)}`);
  }

  /** GET_MAX_OFFSET (exclusive: the next offset to be written). */
  async maxOffset(queue: MessageQueue): Promise<number> {
    return await this.#offsetQuery(RequestCode.GET_MAX_OFFSET, queue, {});
  }

  /** GET_MIN_OFFSET. */
  async minOffset(queue: MessageQueue): Promise<number> {
    return await this.#offsetQuery(RequestCode.GET_MIN_OFFSET, queue, {});
  }

  /** SEARCH_OFFSET_BY_TIMESTAMP. */
  async searchOffset(queue: MessageQueue, timestampMs: number): Promise<number> {
    return await this.#offsetQuery(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, queue, { timestamp: String(timestampMs) });
  }

  async #offsetQuery(code: number, queue: MessageQueue, extra: ExtFields): Promise<number> {
    const addr = await this.brokerAddr(queue);
    const response = await this.call(
      addr,
      createRequest(code, { topic: queue.topic, queueId: String(queue.queueId), bname: queue.brokerName, ...extra }),
      `query offsets of ${describeQueue(queue)}`,
    );
    return longField(response.extFields, "offset", 0);
  }

  /** GET_CONSUMER_LIST_BY_GROUP from one broker of `topic`; undefined when none answers. */
  async consumerIds(topic: string, group: string): Promise<string[] | undefined> {
    let addr = this.routes.anyBrokerAddrOf(topic);
    if (!addr) {
      await this.routes.update(topic);
      addr = this.routes.anyBrokerAddrOf(topic);
    }
    if (!addr) return undefined;
    const response = await this.call(
      addr,
      createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: group }),
      `list consumers of group "${group}"`,
    );
    const body = decodeJsonBody(response.body, "consumer id list") as { consumerIdList?: unknown };
    return Array.isArray(body.consumerIdList) ? body.consumerIdList.map(String) : [];
  }

  /** LOCK_BATCH_MQ: returns the queues now locked by this client. */
  async lockBatch(addr: string, group: string, queues: readonly MessageQueue[]): Promise<MessageQueue[]> {
    const response = await this.call(
      addr,
      createRequest(RequestCode.LOCK_BATCH_MQ, {}, {
        body: encodeJsonBody({ clientId: this.clientId, consumerGroup: group, mqSet: queues.map(queueJson) }),
      }),
      `lock ${queues.length} queues of group "${group}"`,
    );
    const body = decodeJsonBody(response.body, "lock reply") as { lockOKMQSet?: unknown };
    const locked: MessageQueue[] = [];
    if (Array.isArray(body.lockOKMQSet)) {
      for (const item of body.lockOKMQSet) {
        const queue = readQueue(item);
        if (queue) locked.push(queue);
      }
    }
    return locked;
  }

  /** UNLOCK_BATCH_MQ. */
  async unlockBatch(addr: string, group: string, queues: readonly MessageQueue[], oneway: boolean): Promise<void> {
    const request = createRequest(RequestCode.UNLOCK_BATCH_MQ, {}, {
      body: encodeJsonBody({ clientId: this.clientId, consumerGroup: group, mqSet: queues.map(queueJson) }),
    });
    if (oneway) await this.remoting.invokeOneway(addr, request);
    else await this.call(addr, request, `unlock ${queues.length} queues of group "${group}"`);
  }

  /** CONSUMER_SEND_MSG_BACK to the broker that stored `message`. */
  async sendMessageBack(
    message: ReceivedMessage,
    group: string,
    delayLevel: number,
    maxReconsumeTimes: number,
  ): Promise<void> {
    const addr = this.routes.masterAddr(message.brokerName) ?? message.storeHost;
    await this.call(
      addr,
      createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
        offset: String(message.commitLogOffset),
        group,
        delayLevel: String(delayLevel),
        originMsgId: message.msgId,
        originTopic: message.topic,
        unitMode: "false",
        maxReconsumeTimes: String(maxReconsumeTimes),
        bname: message.brokerName,
      }),
      `send message ${message.msgId} back to group "${group}"`,
      5000,
    );
  }

  // ---- requests from brokers ----

  async #serveRequest(request: RemotingCommand, addr: string): Promise<RemotingCommand | null> {
    switch (request.code) {
      case RequestCode.NOTIFY_CONSUMER_IDS_CHANGED: {
        const group = request.extFields.consumerGroup;
        this.logger.info("Broker says the group's consumers changed; rebalancing", { addr, group });
        for (const consumer of this.#consumers.values()) {
          if (group === undefined || consumer.group === group) consumer.rebalanceNow();
        }
        return null;
      }
      case RequestCode.GET_CONSUMER_RUNNING_INFO:
        return this.#runningInfo(request);
      case RequestCode.CONSUME_MESSAGE_DIRECTLY:
        return await this.#consumeDirectly(request);
      case RequestCode.RESET_CONSUMER_CLIENT_OFFSET:
        await this.#resetOffset(request, addr);
        return null;
      case RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT:
        return this.#consumerStatus(request);
      case RequestCode.CHECK_TRANSACTION_STATE:
        this.logger.warn("Ignoring CHECK_TRANSACTION_STATE: this client does not send transactional messages", {
          addr,
        });
        return null;
      default:
        return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, {
          remark: ` request type ${request.code} not supported`,
        });
    }
  }

  #notHere(request: RemotingCommand, group: string | undefined): RemotingCommand {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, {
      remark: `The Consumer Group <${group}> not exist in this consumer`,
    });
  }

  #runningInfo(request: RemotingCommand): RemotingCommand {
    const group = request.extFields.consumerGroup;
    const consumer = group === undefined ? undefined : this.#consumers.get(group);
    if (!consumer) return this.#notHere(request, group);
    const info = consumer.runningInfo();
    const properties = (info.properties ?? {}) as Record<string, string>;
    properties.PROP_NAMESERVER_ADDR = this.routes.nameServers.map((a) => a + ";").join("");
    properties.PROP_CLIENT_VERSION = "V4_9_7";
    info.properties = properties;
    return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(info) });
  }

  async #consumeDirectly(request: RemotingCommand): Promise<RemotingCommand> {
    const group = request.extFields.consumerGroup;
    const consumer = group === undefined ? undefined : this.#consumers.get(group);
    if (!consumer?.consumeDirectly || !request.body) return this.#notHere(request, group);
    const record = decodeMessageRecord(request.body, 0, { copyBody: true });
    const brokerName = request.extFields.brokerName ?? "";
    const message = new ReceivedMessage(record, brokerName, Object.fromEntries(parseProperties(record.properties)));
    const started = Date.now();
    const outcome = await consumer.consumeDirectly(message);
    return createResponse(request, ResponseCode.SUCCESS, {
      body: encodeJsonBody({
        autoCommit: true,
        consumeResult: outcome.result,
        order: outcome.order,
        remark: outcome.remark,
        spentTimeMills: Date.now() - started,
      }),
    });
  }

  async #resetOffset(request: RemotingCommand, addr: string): Promise<void> {
    const { topic, group } = request.extFields;
    const consumer = group === undefined ? undefined : this.#consumers.get(group);
    if (!consumer?.resetOffset || topic === undefined) return;
    const offsets = new Map<string, { queue: MessageQueue; queueOffset: number }>();
    if (request.body && request.body.length > 0) {
      const body = decodeJsonBody(request.body, "reset offset body") as { offsetTable?: unknown };
      for (const [key, value] of mapEntries(body.offsetTable)) {
        const queue = readQueue(key);
        const queueOffset = Number(value);
        if (queue && Number.isSafeInteger(queueOffset)) {
          offsets.set(`${queue.brokerName}@${queue.queueId}`, { queue, queueOffset });
        }
      }
    }
    this.logger.info("Broker resets consumer offsets", { addr, topic, group, queues: offsets.size });
    await consumer.resetOffset(topic, offsets);
  }

  #consumerStatus(request: RemotingCommand): RemotingCommand {
    const { topic, group } = request.extFields;
    const consumer = group === undefined ? undefined : this.#consumers.get(group);
    if (!consumer?.consumerStatus || topic === undefined) return this.#notHere(request, group);
    const table = new Map<Record<string, unknown>, number>();
    for (const [queue, queueOffset] of consumer.consumerStatus(topic)) table.set(queueJson(queue), queueOffset);
    return createResponse(request, ResponseCode.SUCCESS, {
      body: encodeJsonBody({ consumerTable: {}, messageQueueTable: table }),
    });
  }
}

/** `topic@broker#queue` for messages. */
export function describeQueue(queue: MessageQueue): string {
  return `queue ${queue.queueId} of topic "${queue.topic}" on "${queue.brokerName}"`;
}

/** A {@linkcode BrokerResponseError} for a non-success response. */
export function responseError(response: RemotingCommand, what: string, addr?: string): BrokerResponseError {
  const remark = response.remark?.trim();
  return new BrokerResponseError(
    response.code,
    `Cannot ${what}: ${addr ?? "server"} answered code ${response.code}${remark ? `: ${remark}` : ""}`,
    response.remark,
    addr,
  );
}

function longField(ext: ExtFields, name: string, fallback: number): number {
  const raw = ext[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  return Number.isFinite(n) ? n : fallback;
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`Cannot create client: ${name} must be a positive number, got ${value}`);
  }
  return value;
}

/** Validates a positive integer option. */
export function positiveInteger(value: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`Invalid option ${name}: expected an integer in [1, ${max}], got ${value}`);
  }
  return value;
}
