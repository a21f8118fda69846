/**
 * What broker handlers share: the store, the managers, the config and a few broker-wide helpers.
 * Built once in `broker/mod.ts`; handlers never touch sockets.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { parseIp, type SocketAddress } from "../../protocol/message.ts";
import type { DataVersion } from "../../protocol/bodies.ts";
import type { Lane } from "../../remoting/lanes.ts";
import type { ServerConnection } from "../../remoting/server.ts";
import type { ConsumerManager, ProducerManager } from "../clients.ts";
import type { BrokerConfig } from "../config.ts";
import type { ConsumerOffsetManager } from "../consumer_offsets.ts";
import type { InnerMessage } from "../inner_message.ts";
import type { RebalanceLockManager } from "../locks.ts";
import type { PullHoldService } from "../long_polling.ts";
import type { ScheduleService } from "../schedule.ts";
import type { BrokerStats } from "../stats.ts";
import type { MessageStore, PutMessageResult } from "../store/store.ts";
import type { SubscriptionGroupManager } from "../subscription_groups.ts";
import type { TopicManager } from "../topics.ts";
import type { TransactionService } from "../transactions.ts";

/** Services the broker's handlers call. */
export interface BrokerServices {
  config: BrokerConfig;
  store: MessageStore;
  topics: TopicManager;
  groups: SubscriptionGroupManager;
  offsets: ConsumerOffsetManager;
  consumers: ConsumerManager;
  producers: ProducerManager;
  pullHold: PullHoldService;
  locks: RebalanceLockManager;
  schedule: ScheduleService;
  transactions: TransactionService;
  stats: BrokerStats;
  log: Logger;
  /** This broker's `brokerIP1:listenPort`, as registered. */
  brokerAddr: string;
  /** STOREHOST of every record. */
  storeHost: SocketAddress;
  /** Delay per level in ms (messageDelayLevel). */
  delayLevels: readonly number[];
  now(): number;
  /** Applies the commit-log rules and appends (delay redirect, index keys, flush wait). */
  putInner(message: InnerMessage): Promise<PutMessageResult>;
  /** Re-registers with the NameServers soon (after a topic change); settles once they answered. */
  registerSoon(): Promise<void>;
  /** Each port's request lanes (main, then VIP; none until they listen), for runtime info. */
  laneSets: ReadonlyMap<string, Lane>[];
  /** Version of the broker config (GET_BROKER_CONFIG's `version`), bumped by UPDATE_BROKER_CONFIG. */
  configDataVersion: DataVersion;
}

const bornHosts = new WeakMap<ServerConnection, SocketAddress>();

/** The client's address as BORNHOST bytes, computed once per connection. */
export function bornHostOf(connection: ServerConnection): SocketAddress {
  let host = bornHosts.get(connection);
  if (!host) {
    let ip: Uint8Array;
    try {
      ip = parseIp(connection.remoteHostname);
    } catch {
      ip = new Uint8Array([127, 0, 0, 1]);
    }
    // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d: store it as IPv4, as Java does.
    if (ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) {
      ip = ip.slice(12);
    }
    host = { ip, port: connection.remotePort };
    bornHosts.set(connection, host);
  }
  return host;
}
