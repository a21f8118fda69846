/**
 * Broker configuration: RocketMQ's `broker.conf` key names (Java properties), read from a file,
 * then the environment (`DENOMQ_<KEY>`, any case), then flags — later sources win.
 *
 * Unknown keys are warned about (RocketMQ has ~400 keys; those it knows but we do not act on are
 * accepted quietly and listed in `IGNORED_KEYS`); bad values stop the start with the key, the
 * value and the expected form. Every bound the broker enforces is named here with the reason
 * for its size.
 *
 * @module
 */

import { parseJavaProperties } from "../protocol/bodies.ts";
import { ConfigError } from "../nameserver/config.ts";

export { ConfigError };

/** Broker settings, RocketMQ names and defaults unless noted. */
export interface BrokerConfig {
  brokerClusterName: string;
  /** RocketMQ defaults to the host name; we default to "broker-a". */
  brokerName: string;
  brokerId: number;
  /** `;`-separated NameServer addresses. Empty: do not register. */
  namesrvAddr: string;
  listenPort: number;
  /** Address clients are told to use (routes, message ids). RocketMQ picks a LAN IP; we default to 127.0.0.1. */
  brokerIP1: string;
  /** HA address; defaults to brokerIP1. */
  brokerIP2: string;
  /** Address to bind (not a RocketMQ key). */
  listenHost: string;
  /** Serve every code except PULL_MESSAGE on listenPort - 2 too (the "VIP channel"). */
  fastListenEnable: boolean;
  brokerRole: "ASYNC_MASTER" | "SYNC_MASTER" | "SLAVE";
  storePathRootDir: string;
  flushDiskType: "ASYNC_FLUSH" | "SYNC_FLUSH";
  syncFlushTimeout: number;
  flushIntervalCommitLog: number;
  flushCommitLogLeastPages: number;
  mappedFileSizeCommitLog: number;
  /** Bytes of a consume-queue file (RocketMQ: 300000 units of 20 bytes). */
  mappedFileSizeConsumeQueue: number;
  maxMessageSize: number;
  fileReservedTime: number;
  deleteWhen: string;
  diskMaxUsedSpaceRatio: number;
  autoCreateTopicEnable: boolean;
  autoCreateSubscriptionGroup: boolean;
  defaultTopicQueueNums: number;
  clusterTopicEnable: boolean;
  brokerTopicEnable: boolean;
  /** RocketMQ defaults to false; we create RMQ_SYS_TRACE_TOPIC by default so trace data is never lost. */
  traceTopicEnable: boolean;
  msgTraceTopicName: string;
  brokerPermission: number;
  messageDelayLevel: string;
  regionId: string;
  traceOn: boolean;
  longPollingEnable: boolean;
  shortPollingTimeMills: number;
  registerNameServerPeriod: number;
  registerBrokerTimeoutMills: number;
  rejectTransactionMessage: boolean;
  enablePropertyFilter: boolean;
  notifyConsumerIdsChangedEnable: boolean;
  defaultQueryMaxNum: number;
  maxTransferBytesOnMessageInMemory: number;
  maxTransferCountOnMessageInMemory: number;
  /** Consumer offsets and delay progress are written to disk this often when changed (RocketMQ: 5000). */
  flushConsumerOffsetInterval: number;
  /** Client channels silent this long are dropped (RocketMQ: 120 s). */
  channelExpiredTimeout: number;
  startAcceptSendRequestTimeStamp: number;
  /** Send lane bound (RocketMQ `sendThreadPoolQueueCapacity`). */
  sendThreadPoolQueueCapacity: number;
  /** Pull lane bound (RocketMQ `pullThreadPoolQueueCapacity`). */
  pullThreadPoolQueueCapacity: number;
  /** Admin lane bound. */
  adminThreadPoolQueueCapacity: number;
  /** Held long-poll pulls at once; more are answered SYSTEM_BUSY (clients retry in 3 s). */
  pullHoldCountMax: number;
  /** Longest hold of one pull, whatever the client asks (its own timeout is 30 s). */
  longPollMsMax: number;
  /** Send lane: handlers awaiting the store at once (a SYNC_FLUSH group commit covers them all). */
  sendConcurrencyMax: number;
  /** Broker → client call timeout (RocketMQ: 10 s for admin relays). */
  clientRequestTimeoutMills: number;
  /** A transaction half message younger than this is not checked yet (ms). */
  transactionTimeOut: number;
  /** Checks of an undecided half message before it is moved to TRANS_CHECK_MAX_TIME_TOPIC. */
  transactionCheckMax: number;
  /** How often undecided half messages are checked (ms). */
  transactionCheckInterval: number;
  /** Check every request against the plain ACL file (RocketMQ 4.x ACL 1.0). */
  aclEnable: boolean;
  /** The ACL rules (RocketMQ: `$ROCKETMQ_HOME/conf/plain_acl.yml`); re-read when it changes. */
  aclFile: string;
}

/** RocketMQ 4.9.7's defaults, with the departures noted on {@linkcode BrokerConfig}. */
export const DEFAULT_BROKER_CONFIG: BrokerConfig = {
  brokerClusterName: "DefaultCluster",
  brokerName: "broker-a",
  brokerId: 0,
  namesrvAddr: "",
  listenPort: 10911,
  brokerIP1: "127.0.0.1",
  brokerIP2: "",
  listenHost: "0.0.0.0",
  fastListenEnable: true,
  brokerRole: "ASYNC_MASTER",
  storePathRootDir: "./store",
  flushDiskType: "ASYNC_FLUSH",
  syncFlushTimeout: 5000,
  flushIntervalCommitLog: 500,
  flushCommitLogLeastPages: 4,
  mappedFileSizeCommitLog: 1024 * 1024 * 1024,
  mappedFileSizeConsumeQueue: 300_000 * 20,
  maxMessageSize: 4 * 1024 * 1024,
  fileReservedTime: 72,
  deleteWhen: "04",
  diskMaxUsedSpaceRatio: 75,
  autoCreateTopicEnable: true,
  autoCreateSubscriptionGroup: true,
  defaultTopicQueueNums: 8,
  clusterTopicEnable: true,
  brokerTopicEnable: true,
  traceTopicEnable: true,
  msgTraceTopicName: "RMQ_SYS_TRACE_TOPIC",
  brokerPermission: 6,
  messageDelayLevel: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h",
  regionId: "DefaultRegion",
  traceOn: true,
  longPollingEnable: true,
  shortPollingTimeMills: 1000,
  registerNameServerPeriod: 30_000,
  registerBrokerTimeoutMills: 6000,
  rejectTransactionMessage: false,
  enablePropertyFilter: false,
  notifyConsumerIdsChangedEnable: true,
  defaultQueryMaxNum: 32,
  maxTransferBytesOnMessageInMemory: 256 * 1024,
  maxTransferCountOnMessageInMemory: 32,
  flushConsumerOffsetInterval: 1000,
  channelExpiredTimeout: 120_000,
  startAcceptSendRequestTimeStamp: 0,
  sendThreadPoolQueueCapacity: 10_000,
  pullThreadPoolQueueCapacity: 100_000,
  adminThreadPoolQueueCapacity: 10_000,
  pullHoldCountMax: 100_000,
  longPollMsMax: 25_000,
  sendConcurrencyMax: 8192,
  clientRequestTimeoutMills: 10_000,
  transactionTimeOut: 6000,
  transactionCheckMax: 15,
  transactionCheckInterval: 60_000,
  aclEnable: false,
  aclFile: "conf/plain_acl.yml",
};

/**
 * RocketMQ keys we accept without acting on them (thread counts, JVM-specific tuning, features
 * out of scope), so a real `broker.conf` loads without a wall of warnings.
 */
export const IGNORED_KEYS = new Set([
  "sendMessageThreadPoolNums",
  "pullMessageThreadPoolNums",
  "queryMessageThreadPoolNums",
  "adminBrokerThreadPoolNums",
  "clientManageThreadPoolNums",
  "consumerManageThreadPoolNums",
  "heartbeatThreadPoolNums",
  "endTransactionThreadPoolNums",
  "processReplyMessageThreadPoolNums",
  "useReentrantLockWhenPutMessage",
  "transientStorePoolEnable",
  "transientStorePoolSize",
  "warmMapedFileEnable",
  "osPageCacheBusyTimeOutMills",
  "waitTimeMillsInSendQueue",
  "waitTimeMillsInPullQueue",
  "waitTimeMillsInHeartbeatQueue",
  "waitTimeMillsInTransactionQueue",
  "rocketmqHome",
  "storePathCommitLog",
  "storePathConsumeQueue",
  "storePathIndex",
  "storeCheckpoint",
  "abortFile",
  "haListenPort",
  "haSendHeartbeatInterval",
  "haHousekeepingInterval",
  "haTransferBatchSize",
  "haMasterAddress",
  "haSlaveFallbehindMax",
  "slaveReadEnable",
  "offsetCheckInSlave",
  "enableDLegerCommitLog",
  "dLegerGroup",
  "dLegerPeers",
  "dLegerSelfId",
  "serverWorkerThreads",
  "serverCallbackExecutorThreads",
  "serverSelectorThreads",
  "serverOnewaySemaphoreValue",
  "serverAsyncSemaphoreValue",
  "serverChannelMaxIdleTimeSeconds",
  "serverSocketSndBufSize",
  "serverSocketRcvBufSize",
  "serverPooledByteBufAllocatorEnable",
  "useEpollNativeSelector",
  "flushLeastPagesWhenWarmMapedFile",
  "flushConsumeQueueLeastPages",
  "flushIntervalConsumeQueue",
  "flushConsumerOffsetHistoryInterval",
  "cleanFileForciblyEnable",
  "deleteCommitLogFilesInterval",
  "deleteConsumeQueueFilesInterval",
  "destroyMapedFileIntervalForcibly",
  "redeleteHangedFileInterval",
  "checkCRCOnRecover",
  "maxHashSlotNum",
  "maxIndexNum",
  "messageIndexEnable",
  "messageIndexSafe",
  "compressedRegister",
  "forceRegister",
  "brokerFastFailureEnable",
  "transferMsgByHeap",
  "accessMessageInMemoryMaxRatio",
  "maxTransferBytesOnMessageInDisk",
  "maxTransferCountOnMessageInDisk",
  "commercialEnable",
  "filterServerNums",
  "isEnableBatchPush",
  "enableCalcFilterBitMap",
  "enableConsumeQueueExt",
  "filterSupportRetry",
  "duplicationEnable",
  "diskFallRecorded",
  "longPollingEnable",
  "mappedFileSizeConsumeQueueExt",
  "bitMapLengthConsumeQueueExt",
  "fetchNamesrvAddrByAddressServer",
  "autoDeleteUnusedStats",
  "isolateLogEnable",
]);

/**
 * Keys that UPDATE_BROKER_CONFIG may not change at run time: the broker's identity, and every
 * value read once at start (store options, lane bounds, timers, the delay levels, the system
 * topics), which a run-time change would show in GET_BROKER_CONFIG without it taking effect.
 */
export const RESTART_ONLY_KEYS = new Set([
  "transactionCheckInterval",
  "brokerClusterName",
  "brokerName",
  "brokerId",
  "listenPort",
  "listenHost",
  "brokerIP1",
  "brokerIP2",
  "storePathRootDir",
  "flushDiskType",
  "mappedFileSizeCommitLog",
  "mappedFileSizeConsumeQueue",
  "brokerRole",
  "fastListenEnable",
  // Read once at start:
  "syncFlushTimeout",
  "flushIntervalCommitLog",
  "flushCommitLogLeastPages",
  "maxMessageSize",
  "fileReservedTime",
  "deleteWhen",
  "diskMaxUsedSpaceRatio",
  "messageDelayLevel",
  "sendThreadPoolQueueCapacity",
  "pullThreadPoolQueueCapacity",
  "adminThreadPoolQueueCapacity",
  "pullHoldCountMax",
  "sendConcurrencyMax",
  "clientRequestTimeoutMills",
  "registerNameServerPeriod",
  "flushConsumerOffsetInterval",
  "traceTopicEnable",
  "msgTraceTopicName",
  "clusterTopicEnable",
  "brokerTopicEnable",
]);

/**
 * Bytes a record may take beyond its body: properties (≤ 32 KiB), topic and fixed fields, with
 * room to spare. The store's record limit is `maxMessageSize` plus this, so a body of exactly
 * `maxMessageSize` always fits (RocketMQ applies the limit to the whole record, which refuses it).
 */
export const RECORD_ALLOWANCE_BYTES = 64 * 1024;

/** Parses `messageDelayLevel` ("1s 5s … 2h") to delays in ms, level 1 first. */
export function parseDelayLevels(text: string): number[] {
  const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return text.trim().split(/\s+/).map((token) => {
    const match = /^(\d+)([smhd])$/.exec(token);
    if (!match) {
      throw new ConfigError(`Invalid messageDelayLevel entry "${token}": expected a number followed by s, m, h or d`);
    }
    return Number(match[1]) * units[match[2]];
  });
}

const ENUMS: Record<string, readonly string[]> = {
  brokerRole: ["ASYNC_MASTER", "SYNC_MASTER", "SLAVE"],
  flushDiskType: ["ASYNC_FLUSH", "SYNC_FLUSH"],
};

/** Keys that must be at least 1. */
const POSITIVE_KEYS = new Set([
  "transactionCheckInterval",
  "mappedFileSizeCommitLog",
  "mappedFileSizeConsumeQueue",
  "maxMessageSize",
  "defaultTopicQueueNums",
  "syncFlushTimeout",
  "flushIntervalCommitLog",
  "registerNameServerPeriod",
  "registerBrokerTimeoutMills",
  "maxTransferBytesOnMessageInMemory",
  "maxTransferCountOnMessageInMemory",
  "flushConsumerOffsetInterval",
  "channelExpiredTimeout",
  "sendThreadPoolQueueCapacity",
  "pullThreadPoolQueueCapacity",
  "adminThreadPoolQueueCapacity",
  "pullHoldCountMax",
  "longPollMsMax",
  "sendConcurrencyMax",
  "clientRequestTimeoutMills",
  "defaultQueryMaxNum",
]);

/**
 * Applies `key=value` settings onto `config`. Keys are matched exactly, then case-insensitively
 * (so `DENOMQ_FLUSHDISKTYPE` works).
 *
 * @returns warnings for unknown keys.
 * @throws {ConfigError} for a value of the wrong form.
 */
export function applyBrokerSettings(config: BrokerConfig, settings: Map<string, string>): string[] {
  const warnings: string[] = [];
  const target = config as unknown as Record<string, unknown>;
  const byLowerCase = new Map(Object.keys(config).map((k) => [k.toLowerCase(), k]));
  const ignoredLowerCase = new Set([...IGNORED_KEYS].map((k) => k.toLowerCase()));
  for (const [rawKey, raw] of settings) {
    const key = rawKey in target ? rawKey : byLowerCase.get(rawKey.toLowerCase());
    if (!key) {
      if (!ignoredLowerCase.has(rawKey.toLowerCase())) warnings.push(`unknown broker.conf key "${rawKey}" ignored`);
      continue;
    }
    const value = raw.trim();
    const current = target[key];
    if (typeof current === "number") {
      const n = Number(value);
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) {
        throw new ConfigError(`Invalid value for "${key}": "${raw}", expected an integer`);
      }
      if (POSITIVE_KEYS.has(key) && n < 1) {
        throw new ConfigError(`Invalid value for "${key}": "${raw}", expected at least 1`);
      }
      if (key === "listenPort" && (n < 0 || n > 65535)) {
        throw new ConfigError(`Invalid value for "listenPort": "${raw}", expected a port number 0-65535`);
      }
      if (key === "brokerPermission" && (n < 0 || n > 15)) {
        throw new ConfigError(
          `Invalid value for "brokerPermission": "${raw}", expected PermName bits 0-15 (6 = read+write)`,
        );
      }
      if (key === "diskMaxUsedSpaceRatio" && (n < 10 || n > 95)) {
        throw new ConfigError(`Invalid value for "diskMaxUsedSpaceRatio": "${raw}", expected a percentage 10-95`);
      }
      target[key] = n;
    } else if (typeof current === "boolean") {
      if (value !== "true" && value !== "false") {
        throw new ConfigError(`Invalid value for "${key}": "${raw}", expected true or false`);
      }
      target[key] = value === "true";
    } else {
      const allowed = ENUMS[key];
      if (allowed && !allowed.includes(value)) {
        throw new ConfigError(`Invalid value for "${key}": "${raw}", expected one of ${allowed.join(", ")}`);
      }
      target[key] = value;
    }
  }
  return warnings;
}

/** Cross-field checks, after all sources are applied. */
export function validateBrokerConfig(config: BrokerConfig): void {
  parseDelayLevels(config.messageDelayLevel);
  if (!/^[%|a-zA-Z0-9_-]+$/.test(config.brokerName)) {
    throw new ConfigError(
      `Invalid value for "brokerName": "${config.brokerName}", expected characters [%|a-zA-Z0-9_-]`,
    );
  }
  if (!/^(\d+)(;\d+)*$/.test(config.deleteWhen)) {
    throw new ConfigError(
      `Invalid value for "deleteWhen": "${config.deleteWhen}", expected hours like "04" or "04;16"`,
    );
  }
  for (const addr of config.namesrvAddr.split(";").map((a) => a.trim()).filter(Boolean)) {
    if (!/^.+:\d{1,5}$/.test(addr)) {
      throw new ConfigError(`Invalid value for "namesrvAddr": "${addr}", expected host:port entries separated by ";"`);
    }
  }
  const recordBytesMax = config.maxMessageSize + RECORD_ALLOWANCE_BYTES;
  if (config.mappedFileSizeCommitLog < recordBytesMax + 8) {
    throw new ConfigError(
      `Invalid value for "mappedFileSizeCommitLog": ${config.mappedFileSizeCommitLog} cannot hold a record of ` +
        `maxMessageSize ${config.maxMessageSize} plus ${RECORD_ALLOWANCE_BYTES} bytes of properties and fields; ` +
        `expected at least ${recordBytesMax + 8}, or a smaller maxMessageSize`,
    );
  }
  if (config.fastListenEnable && config.listenPort !== 0 && config.listenPort < 3) {
    throw new ConfigError(
      `Invalid value for "listenPort": ${config.listenPort} leaves no room for the VIP port listenPort - 2`,
    );
  }
}

/** Sources for {@linkcode loadBrokerConfig}, lowest precedence first. */
export interface BrokerConfigSources {
  file?: string;
  env?: Map<string, string>;
  flags?: Map<string, string>;
}

/**
 * Loads the config: defaults, then the file, the environment and the flags.
 *
 * @throws {ConfigError} on an unreadable file or a bad value.
 */
export async function loadBrokerConfig(
  sources: BrokerConfigSources,
): Promise<{ config: BrokerConfig; warnings: string[] }> {
  const config: BrokerConfig = { ...DEFAULT_BROKER_CONFIG };
  const warnings: string[] = [];
  if (sources.file) {
    let text: string;
    try {
      text = await Deno.readTextFile(sources.file);
    } catch (error) {
      throw new ConfigError(`Cannot read config file "${sources.file}": ${(error as Error).message}`, { cause: error });
    }
    warnings.push(...applyBrokerSettings(config, parseJavaProperties(text)));
  }
  if (sources.env) warnings.push(...applyBrokerSettings(config, sources.env));
  if (sources.flags) warnings.push(...applyBrokerSettings(config, sources.flags));
  validateBrokerConfig(config);
  return { config, warnings };
}

/** The config as `key=value` text entries (GET_BROKER_CONFIG). */
export function brokerConfigEntries(config: BrokerConfig): Map<string, string> {
  return new Map(Object.entries(config).map(([k, v]) => [k, String(v)]));
}
