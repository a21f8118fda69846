/**
 * The NameServer role: route registry for brokers, route lookups for clients (RocketMQ
 * `namesrv`). It needs only to listen on TCP and read its config file.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type RemotingServer, startRemotingServer } from "../remoting/server.ts";
import { DEFAULT_NAMESERVER_CONFIG, type NameServerConfig } from "./config.ts";
import { KvConfig } from "./kv_config.ts";
import { createNameServerProcessors, type NameServerServices } from "./processors/mod.ts";
import { type Clock, RouteTable, systemClock } from "./route_table.ts";

export { applyNameServerSettings, ConfigError, DEFAULT_NAMESERVER_CONFIG, readNameServerConfigFile } from "./config.ts";
export type { NameServerConfig } from "./config.ts";
export { type Clock, RouteTable } from "./route_table.ts";

/** How often expired brokers are looked for (RocketMQ: every 10 s). */
const EXPIRY_SCAN_INTERVAL_MS = 10_000;
/**
 * Topics one REGISTER_BROKER may carry. A broker with 1,000 topics sends ~200 KiB; 100,000 is far
 * above any real broker and bounds the work one request can cause.
 */
const TOPICS_PER_REGISTRATION_MAX = 100_000;

/** Options for {@linkcode startNameServer}. */
export interface NameServerOptions {
  config?: Partial<NameServerConfig>;
  /** Time source for broker expiry (tests inject one). */
  clock?: Clock;
  /** Broker expiry, default 120 s. */
  brokerExpiryMs?: number;
  /** Expiry scan period, default 10 s. */
  expiryScanIntervalMs?: number;
}

/** A running NameServer. */
export interface NameServer {
  /** `host:port` it listens on. */
  readonly addr: string;
  readonly port: number;
  readonly routes: RouteTable;
  /** What the handlers use (the HTTP admin is built on the same). */
  readonly services: NameServerServices;
  readonly server: RemotingServer;
  /** Runs the expiry scan now (tests with an injected clock call this). */
  scanExpiredBrokers(): void;
  close(): Promise<void>;
}

/** Starts a NameServer. */
export function startNameServer(options: NameServerOptions = {}): NameServer {
  const config: NameServerConfig = { ...DEFAULT_NAMESERVER_CONFIG, ...options.config };
  const log = getLogger(["denomq", "nameserver"]);
  const routes = new RouteTable({ clock: options.clock ?? systemClock, brokerExpiryMs: options.brokerExpiryMs });
  const services: NameServerServices = {
    routes,
    kv: new KvConfig(),
    config,
    log,
    topicsPerRegistrationMax: TOPICS_PER_REGISTRATION_MAX,
  };
  const server = startRemotingServer({
    role: "nameserver",
    hostname: config.listenHost,
    port: config.listenPort,
    processors: createNameServerProcessors(services),
    lanes: {
      // Registrations get their own lane so a flood of route lookups cannot delay them past expiry.
      register: { concurrencyMax: 64, queueLengthMax: 10_000 },
      default: { concurrencyMax: 256, queueLengthMax: 50_000 },
    },
    onConnectionClosed(connection) {
      for (const removed of routes.connectionClosed(connection.id)) {
        log.info("Removed broker {brokerAddr}: {reason}", { ...removed });
      }
    },
  });
  function scanExpiredBrokers(): void {
    for (const removed of routes.expire()) log.warn("Removed broker {brokerAddr}: {reason}", { ...removed });
  }
  const timer = setInterval(scanExpiredBrokers, options.expiryScanIntervalMs ?? EXPIRY_SCAN_INTERVAL_MS);
  return {
    addr: `${server.hostname}:${server.port}`,
    port: server.port,
    routes,
    services,
    server,
    scanExpiredBrokers,
    async close() {
      clearInterval(timer);
      await server.close();
    },
  };
}
