/**
 * The broker role: the message store behind RocketMQ's remoting protocol, on `listenPort` (10911)
 * and the "VIP" port `listenPort - 2`, registered with the NameServers.
 *
 * This is the only module that knows both the protocol's and the store's limits, so it asserts
 * their relationship at start: a maximum-size message must fit in a frame and in a record.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { assert } from "../protocol/assert.ts";
import { createRequest, type RemotingCommand } from "../protocol/command.ts";
import { bodyBytesMax, frameBytesMax } from "../protocol/limits.ts";
import { formatSocketAddress, parseIp, RECORD_OVERHEAD_BYTES, type SocketAddress } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { type RemotingServer, type ServerConnection, startRemotingServer } from "../remoting/server.ts";
import { AclService } from "./acl/mod.ts";
import { ConsumerManager, ProducerManager } from "./clients.ts";
import {
  type BrokerConfig,
  ConfigError,
  DEFAULT_BROKER_CONFIG,
  parseDelayLevels,
  RECORD_ALLOWANCE_BYTES,
  validateBrokerConfig,
} from "./config.ts";
import { ConsumerOffsetManager } from "./consumer_offsets.ts";
import { type InnerMessage, toStoreMessage } from "./inner_message.ts";
import { RebalanceLockManager } from "./locks.ts";
import { PullHoldService } from "./long_polling.ts";
import type { BrokerServices } from "./processors/context.ts";
import { createBrokerProcessors, createVipProcessors } from "./processors/mod.ts";
import { BrokerRegistration } from "./registration.ts";
import { ScheduleService } from "./schedule.ts";
import { TransactionService } from "./transactions.ts";
import { BrokerStats } from "./stats.ts";
import { openMessageStore } from "./store/mod.ts";
import { type MessageStore, PutMessageStatus } from "./store/store.ts";
import { SubscriptionGroupManager } from "./subscription_groups.ts";
import { SCHEDULE_TOPIC, TopicManager } from "./topics.ts";

export { ConfigError, loadBrokerConfig } from "./config.ts";
export type { BrokerConfig } from "./config.ts";

/** How often silent client channels are looked for (RocketMQ: 10 s). */
const CLIENT_SCAN_INTERVAL_MS = 10_000;
/** Attempts at finding a free port pair (P, P - 2) when listenPort is 0. */
const PORT_PAIR_ATTEMPTS_MAX = 50;

/** Options for {@linkcode startBroker}. */
export interface BrokerOptions {
  config?: Partial<BrokerConfig>;
  /** A store to use instead of opening the file store (tests pass the memory store). */
  store?: MessageStore;
}

/** A running broker. */
export interface Broker {
  /** `brokerIP1:port`, the address it registers. */
  readonly addr: string;
  readonly port: number;
  readonly vipPort: number | undefined;
  readonly services: BrokerServices;
  readonly server: RemotingServer;
  /** The VIP port's server (`listenPort - 2`), when `fastListenEnable`. */
  readonly vipServer: RemotingServer | undefined;
  close(): Promise<void>;
}

function listenPair(
  config: BrokerConfig,
  start: (port: number) => RemotingServer,
  startVip: (port: number) => RemotingServer,
): { main: RemotingServer; vip?: RemotingServer } {
  if (!config.fastListenEnable) return { main: start(config.listenPort) };
  if (config.listenPort !== 0) {
    const main = start(config.listenPort);
    try {
      return { main, vip: startVip(config.listenPort - 2) };
    } catch (error) {
      void main.close();
      throw error;
    }
  }
  // Port 0: the VIP port must still be main - 2, so pick pairs until one is free.
  for (let attempt = 0; attempt < PORT_PAIR_ATTEMPTS_MAX; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    let main: RemotingServer;
    try {
      main = start(port);
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) continue;
      throw error;
    }
    try {
      return { main, vip: startVip(port - 2) };
    } catch (error) {
      void main.close();
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Error(`Cannot find a free port pair (P, P - 2) after ${PORT_PAIR_ATTEMPTS_MAX} attempts`);
}

/** Starts a broker. */
export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const config: BrokerConfig = { ...DEFAULT_BROKER_CONFIG, ...options.config };
  validateBrokerConfig(config);
  const log = getLogger(["denomq", "broker"]);
  // Protocol and store limits meet here: a record (as served in a pull) must fit a frame.
  assert(frameBytesMax > RECORD_OVERHEAD_BYTES + RECORD_ALLOWANCE_BYTES, "a frame must hold a record");
  if (config.maxMessageSize + RECORD_ALLOWANCE_BYTES > bodyBytesMax) {
    throw new ConfigError(
      `Invalid value for "maxMessageSize": ${config.maxMessageSize} does not fit a ${frameBytesMax}-byte frame; ` +
        `expected at most ${bodyBytesMax - RECORD_ALLOWANCE_BYTES}`,
    );
  }
  const delayLevels = parseDelayLevels(config.messageDelayLevel);
  // Fail closed: with aclEnable, a missing or invalid ACL file stops the start.
  const acl = config.aclEnable ? await AclService.open(config.aclFile, log) : undefined;
  const root = config.storePathRootDir;
  await Deno.mkdir(`${root}/config`, { recursive: true });

  const store = options.store ?? await openMessageStore({
    storePathRootDir: root,
    mappedFileSizeCommitLog: config.mappedFileSizeCommitLog,
    mappedFileSizeConsumeQueue: Math.max(1, Math.floor(config.mappedFileSizeConsumeQueue / 20)),
    flushDiskType: config.flushDiskType,
    syncFlushTimeout: config.syncFlushTimeout,
    flushIntervalCommitLog: config.flushIntervalCommitLog,
    flushCommitLogLeastPages: config.flushCommitLogLeastPages,
    maxMessageSize: config.maxMessageSize + RECORD_ALLOWANCE_BYTES,
    fileReservedTime: config.fileReservedTime,
    deleteWhen: config.deleteWhen,
    diskMaxUsedSpaceRatio: config.diskMaxUsedSpaceRatio,
    // Recovery recomputes SCHEDULE_TOPIC_XXXX delivery times from the levels.
    messageDelayLevel: config.messageDelayLevel,
  });

  // Created once the listening port is known; topic changes before that need no registration.
  const registrationRef: { current?: BrokerRegistration } = {};
  const topics = new TopicManager({
    config,
    path: `${root}/config/topics.json`,
    log,
    onChange: () => void registrationRef.current?.registerSoon(),
  });
  await topics.load(`${root}/config/topics.json`);
  const groups = new SubscriptionGroupManager({ config, path: `${root}/config/subscriptionGroup.json`, log });
  await groups.load(`${root}/config/subscriptionGroup.json`);
  const offsets = new ConsumerOffsetManager({ path: `${root}/config/consumerOffset.json`, log });
  await offsets.load(`${root}/config/consumerOffset.json`);

  const stats = new BrokerStats();
  const consumers = new ConsumerManager((group, channels) => {
    for (const channel of channels) {
      channel.connection.oneway(createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { consumerGroup: group }));
    }
  });
  const producers = new ProducerManager();
  const pullHold = new PullHoldService(config.pullHoldCountMax);
  const locks = new RebalanceLockManager();

  let storeHost: SocketAddress = { ip: parseIp(config.brokerIP1), port: config.listenPort };
  const putInner = async (message: InnerMessage) => {
    const now = Date.now();
    const result = await store.putMessage(toStoreMessage(message, { storeHost, delayLevels, now }));
    if (result.status === PutMessageStatus.PUT_OK || result.status === PutMessageStatus.FLUSH_DISK_TIMEOUT) {
      stats.recordPut(message.topic, 1, result.size, now);
    }
    return result;
  };
  const schedule = new ScheduleService({
    store,
    delayLevels,
    redeliver: async (message) => (await putInner(message)).status,
    path: `${root}/config/delayOffset.json`,
    log,
  });
  await schedule.load(`${root}/config/delayOffset.json`);

  const transactions = new TransactionService({
    store,
    topics,
    offsets,
    producers,
    putInner,
    settings: config,
    log,
    storeHost: () => services.storeHost,
  });
  transactions.ensureTopics();
  const services: BrokerServices = {
    config,
    store,
    topics,
    groups,
    offsets,
    consumers,
    producers,
    pullHold,
    locks,
    schedule,
    transactions,
    stats,
    log,
    brokerAddr: "",
    storeHost,
    delayLevels,
    now: () => Date.now(),
    putInner,
    registerSoon: () => registrationRef.current?.registerSoon() ?? Promise.resolve(),
    laneSets: [],
    configDataVersion: { counter: 0, timestamp: Date.now() },
  };
  const unsubscribe = store.onDispatch((event) => {
    pullHold.notifyArrival(event.topic, event.queueId, event.queueOffset, event.tagsCode);
    if (event.topic === SCHEDULE_TOPIC) schedule.onArrival(event.queueId, event.tagsCode);
  });

  const processors = createBrokerProcessors(services);
  const lanes = {
    send: { concurrencyMax: config.sendConcurrencyMax, queueLengthMax: config.sendThreadPoolQueueCapacity },
    pull: { concurrencyMax: config.pullHoldCountMax + 1024, queueLengthMax: config.pullThreadPoolQueueCapacity },
    query: { concurrencyMax: 64, queueLengthMax: 20_000 },
    heartbeat: { concurrencyMax: 64, queueLengthMax: 50_000 },
    clientManage: { concurrencyMax: 64, queueLengthMax: 100_000 },
    consumerManage: { concurrencyMax: 256, queueLengthMax: 100_000 },
    admin: { concurrencyMax: 64, queueLengthMax: config.adminThreadPoolQueueCapacity },
    transaction: { concurrencyMax: 64, queueLengthMax: config.sendThreadPoolQueueCapacity },
  };
  const onConnectionClosed = (connection: { id: number }) => {
    producers.connectionClosed(connection.id);
    consumers.connectionClosed(
      connection.id,
      (group) => config.notifyConsumerIdsChangedEnable && (groups.get(group)?.notifyConsumerIdsChangedEnable ?? true),
    );
  };
  const serverOptions = (port: number, table = processors) => ({
    role: "broker",
    hostname: config.listenHost,
    port,
    processors: table,
    lanes,
    limits: { requestTimeoutMs: config.clientRequestTimeoutMills },
    onConnectionClosed,
    authorize: acl
      ? (request: RemotingCommand, connection: ServerConnection) => acl.check(request, connection.remoteHostname)
      : undefined,
  });
  const { main, vip } = listenPair(
    config,
    (port) => startRemotingServer(serverOptions(port)),
    (port) => startRemotingServer(serverOptions(port, createVipProcessors(processors))),
  );
  const port = main.port;
  services.laneSets = vip ? [main.lanes, vip.lanes] : [main.lanes];
  storeHost = { ip: storeHost.ip, port };
  services.storeHost = storeHost;
  const brokerAddr = formatSocketAddress(storeHost);
  services.brokerAddr = brokerAddr;
  const haPort = port + 1;
  const registration = new BrokerRegistration({
    config,
    topics,
    log,
    brokerAddr,
    haServerAddr: `${config.brokerIP2 || config.brokerIP1}:${haPort}`,
  });
  registrationRef.current = registration;
  await registration.start();
  schedule.start();
  transactions.start();

  const flushTimer = setInterval(() => {
    void offsets.flush();
    void schedule.flush();
  }, config.flushConsumerOffsetInterval);
  const scanTimer = setInterval(() => {
    const now = Date.now();
    for (
      const clientId of consumers.expire(now, config.channelExpiredTimeout, () => config.notifyConsumerIdsChangedEnable)
    ) {
      log.info("Consumer channel {clientId} expired", { clientId });
    }
    producers.expire(now, config.channelExpiredTimeout);
  }, CLIENT_SCAN_INTERVAL_MS);

  log.info("Broker {brokerName} serving on {addr} (VIP port {vipPort}), store {root}, {flushDiskType}", {
    brokerName: config.brokerName,
    addr: brokerAddr,
    vipPort: vip?.port,
    root,
    flushDiskType: config.flushDiskType,
  });

  let closed: Promise<void> | undefined;
  return {
    addr: brokerAddr,
    port,
    vipPort: vip?.port,
    services,
    server: main,
    vipServer: vip,
    close() {
      closed ??= (async () => {
        clearInterval(flushTimer);
        clearInterval(scanTimer);
        await registration.close();
        pullHold.close();
        await Promise.all([main.close(), vip?.close()]);
        unsubscribe();
        acl?.close();
        await schedule.close();
        await transactions.close();
        await Promise.all([offsets.flush(), topics.flush(), groups.flush()]);
        await store.close();
        log.info("Broker {brokerName} stopped", { brokerName: config.brokerName });
      })();
      return closed;
    },
  };
}
