/**
 * Registration with the NameServers: at start, every `registerNameServerPeriod` (30 s), and soon
 * after any topic change (coalesced), each NameServer gets a REGISTER_BROKER with the full topic
 * table; a clean shutdown sends UNREGISTER_BROKER.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { RemotingClient } from "../client/remoting_client.ts";
import { encodeJsonBody, Perm, registerBrokerBodyJson, type TopicConfig } from "../protocol/bodies.ts";
import { createRequest } from "../protocol/command.ts";
import { crc32Masked } from "../protocol/crc32.ts";
import { toExtFields } from "../protocol/header.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import type { BrokerConfig } from "./config.ts";
import type { TopicManager } from "./topics.ts";

/** Registers the broker with its NameServers. */
export class BrokerRegistration {
  readonly #client = new RemotingClient();
  readonly #config: BrokerConfig;
  readonly #topics: TopicManager;
  readonly #log: Logger;
  readonly #brokerAddr: string;
  readonly #haServerAddr: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #soon: { timer: ReturnType<typeof setTimeout>; done: Promise<void>; resolve: () => void } | undefined;
  #closed = false;

  constructor(
    options: { config: BrokerConfig; topics: TopicManager; log: Logger; brokerAddr: string; haServerAddr: string },
  ) {
    this.#config = options.config;
    this.#topics = options.topics;
    this.#log = options.log;
    this.#brokerAddr = options.brokerAddr;
    this.#haServerAddr = options.haServerAddr;
  }

  /** NameServer addresses from `namesrvAddr`. */
  get nameServers(): string[] {
    return this.#config.namesrvAddr.split(";").map((a) => a.trim()).filter(Boolean);
  }

  /** Registers now and then periodically. */
  async start(): Promise<void> {
    await this.registerAll();
    this.#timer = setInterval(() => void this.registerAll(), this.#config.registerNameServerPeriod);
  }

  /**
   * Registers soon (coalescing bursts of topic changes into one registration).
   *
   * @returns a promise that settles once that registration has been answered (or has failed),
   * so a handler that created a topic can reply only when the NameServers route it, as
   * RocketMQ's broker does before answering the heartbeat that created a retry topic.
   */
  registerSoon(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#soon) return this.#soon.done;
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(async () => {
      this.#soon = undefined;
      await this.registerAll();
      resolve();
    }, 0);
    this.#soon = { timer, done: promise, resolve };
    return promise;
  }

  /** Sends REGISTER_BROKER to every NameServer; failures are logged, not thrown. */
  async registerAll(): Promise<void> {
    if (this.#closed) return;
    const servers = this.nameServers;
    if (servers.length === 0) return;
    const c = this.#config;
    const fullyWritable = (c.brokerPermission & (Perm.READ | Perm.WRITE)) === (Perm.READ | Perm.WRITE);
    const table = new Map<string, TopicConfig>();
    for (const topic of this.#topics.all()) {
      table.set(topic.topicName, fullyWritable ? topic : { ...topic, perm: c.brokerPermission });
    }
    const body = encodeJsonBody(registerBrokerBodyJson({
      topicConfigWrapper: { dataVersion: this.#topics.dataVersion, topicConfigTable: table },
      filterServerList: [],
    }));
    const request = createRequest(
      RequestCode.REGISTER_BROKER,
      toExtFields({
        brokerId: c.brokerId,
        bodyCrc32: crc32Masked(body),
        clusterName: c.brokerClusterName,
        brokerAddr: this.#brokerAddr,
        haServerAddr: this.#haServerAddr,
        compressed: false,
        brokerName: c.brokerName,
      }),
      { body },
    );
    await Promise.all(servers.map(async (addr) => {
      try {
        const response = await this.#client.invoke(addr, request, c.registerBrokerTimeoutMills);
        if (response.code !== ResponseCode.SUCCESS) {
          this.#log.warn("NameServer {addr} refused registration: {code} {remark}", {
            addr,
            code: response.code,
            remark: response.remark,
          });
        }
      } catch (error) {
        this.#log.warn("Cannot register with NameServer {addr}: {error}", { addr, error: (error as Error).message });
      }
    }));
  }

  /** Stops registering and sends UNREGISTER_BROKER to every NameServer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#soon) {
      clearTimeout(this.#soon.timer);
      this.#soon.resolve();
      this.#soon = undefined;
    }
    const c = this.#config;
    const request = createRequest(
      RequestCode.UNREGISTER_BROKER,
      toExtFields({
        brokerName: c.brokerName,
        brokerAddr: this.#brokerAddr,
        clusterName: c.brokerClusterName,
        brokerId: c.brokerId,
      }),
    );
    await Promise.all(this.nameServers.map(async (addr) => {
      try {
        await this.#client.invoke(addr, request, c.registerBrokerTimeoutMills);
      } catch (error) {
        this.#log.warn("Cannot unregister from NameServer {addr}: {error}", { addr, error: (error as Error).message });
      }
    }));
    await this.#client.close();
  }
}
