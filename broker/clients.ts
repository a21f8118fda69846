/**
 * Who is connected (RocketMQ `ConsumerManager` and `ProducerManager`): consumer groups with their
 * client channels and subscriptions, producer groups with theirs.
 *
 * A group's membership changes when a heartbeat brings a new channel or changes the topic set,
 * when a client unregisters, when its connection closes, or when it stays silent for
 * `channelExpiredTimeout`; each change notifies the group's remaining channels with
 * NOTIFY_CONSUMER_IDS_CHANGED so they rebalance at once rather than on their 20 s timer.
 *
 * @module
 */

import { javaStringHashCode } from "../protocol/message.ts";
import type { ServerConnection } from "../remoting/server.ts";

/** One client connection in a group. */
export interface ClientChannel {
  connection: ServerConnection;
  clientId: string;
  language: string;
  version: number;
  lastUpdateMs: number;
}

/** A consumer's subscription to one topic (`SubscriptionData.java`). */
export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  codeSet: Set<number>;
  subVersion: number;
  expressionType: string;
  classFilterMode: boolean;
}

/** The "match everything" expression. */
export const SUB_ALL = "*";

/**
 * Builds a subscription from a tag expression (`FilterAPI.buildSubscriptionData`): `*` or empty
 * matches all; otherwise tags split on `||`, trimmed, each with its Java hash code.
 */
export function buildSubscription(
  topic: string,
  expression: string | undefined,
  subVersion: number,
  expressionType = "TAG",
): SubscriptionData {
  const sub: SubscriptionData = {
    topic,
    subString: SUB_ALL,
    tagsSet: [],
    codeSet: new Set(),
    subVersion,
    expressionType,
    classFilterMode: false,
  };
  const text = expression?.trim() ?? "";
  if (text === "" || text === SUB_ALL) return sub;
  sub.subString = expression!;
  if (expressionType !== "TAG") return sub;
  for (const tag of text.split("||")) {
    const trimmed = tag.trim();
    if (trimmed.length > 0) {
      sub.tagsSet.push(trimmed);
      sub.codeSet.add(javaStringHashCode(trimmed));
    }
  }
  return sub;
}

/** A consumer-queue unit filter for a subscription, or undefined when everything matches. */
export function tagFilterOf(sub: SubscriptionData | undefined): ((tagsCode: number) => boolean) | undefined {
  if (!sub || sub.classFilterMode || sub.subString === SUB_ALL || sub.expressionType !== "TAG") return undefined;
  const codes = sub.codeSet;
  return (tagsCode) => codes.has(tagsCode | 0);
}

/** A subscription in fastjson's field order. */
export function subscriptionJson(sub: SubscriptionData): Record<string, unknown> {
  return {
    classFilterMode: sub.classFilterMode,
    codeSet: [...sub.codeSet],
    expressionType: sub.expressionType,
    subString: sub.subString,
    subVersion: sub.subVersion,
    tagsSet: sub.tagsSet,
    topic: sub.topic,
  };
}

/** A consumer group's members and subscriptions. */
export interface ConsumerGroupInfo {
  groupName: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  /** connection id → channel */
  channels: Map<number, ClientChannel>;
  subscriptions: Map<string, SubscriptionData>;
  lastUpdateMs: number;
}

/** Arguments of {@linkcode ConsumerManager.register}. */
export interface ConsumerRegistration {
  group: string;
  channel: ClientChannel;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  subscriptions: SubscriptionData[];
}

/** Channels one group may hold: a bound against a client faking endless ids. */
export const CHANNELS_PER_GROUP_MAX = 10_000;
/** Consumer or producer groups tracked at once. */
export const CLIENT_GROUPS_MAX = 100_000;

/** Consumer groups with their channels. */
export class ConsumerManager {
  readonly #groups = new Map<string, ConsumerGroupInfo>();
  readonly #onIdsChanged: (group: string, channels: ClientChannel[]) => void;

  /** `onIdsChanged` runs after a membership change with the group's remaining channels. */
  constructor(onIdsChanged: (group: string, channels: ClientChannel[]) => void) {
    this.#onIdsChanged = onIdsChanged;
  }

  /** Registers or refreshes a consumer; notifies the group when membership or topics changed. */
  register(r: ConsumerRegistration, notify: boolean): boolean {
    let info = this.#groups.get(r.group);
    if (!info) {
      if (this.#groups.size >= CLIENT_GROUPS_MAX) return false;
      info = {
        groupName: r.group,
        consumeType: r.consumeType,
        messageModel: r.messageModel,
        consumeFromWhere: r.consumeFromWhere,
        channels: new Map(),
        subscriptions: new Map(),
        lastUpdateMs: r.channel.lastUpdateMs,
      };
      this.#groups.set(r.group, info);
    }
    info.consumeType = r.consumeType;
    info.messageModel = r.messageModel;
    info.consumeFromWhere = r.consumeFromWhere;
    info.lastUpdateMs = r.channel.lastUpdateMs;
    let changed = false;
    const existing = info.channels.get(r.channel.connection.id);
    if (!existing) {
      if (info.channels.size >= CHANNELS_PER_GROUP_MAX) return false;
      info.channels.set(r.channel.connection.id, { ...r.channel });
      changed = true;
    } else {
      if (existing.clientId !== r.channel.clientId) changed = true;
      Object.assign(existing, r.channel);
    }
    // Subscriptions belong to the group: the latest heartbeat's set wins, as in RocketMQ.
    const topics = new Set<string>();
    for (const sub of r.subscriptions) {
      topics.add(sub.topic);
      const old = info.subscriptions.get(sub.topic);
      if (!old) {
        info.subscriptions.set(sub.topic, sub);
        changed = true;
      } else if (sub.subVersion > old.subVersion) {
        info.subscriptions.set(sub.topic, sub);
      }
    }
    for (const topic of [...info.subscriptions.keys()]) {
      if (!topics.has(topic)) {
        info.subscriptions.delete(topic);
        changed = true;
      }
    }
    if (changed && notify) this.#onIdsChanged(r.group, [...info.channels.values()]);
    return changed;
  }

  /** Removes one connection from a group (UNREGISTER_CLIENT). */
  unregister(group: string, connectionId: number, notify: boolean): void {
    const info = this.#groups.get(group);
    if (!info || !info.channels.delete(connectionId)) return;
    if (info.channels.size === 0) this.#groups.delete(group);
    else if (notify) this.#onIdsChanged(group, [...info.channels.values()]);
  }

  /** Removes a closed connection from every group. */
  connectionClosed(connectionId: number, notify: (group: string) => boolean): void {
    for (const [group, info] of this.#groups) {
      if (!info.channels.delete(connectionId)) continue;
      if (info.channels.size === 0) this.#groups.delete(group);
      else if (notify(group)) this.#onIdsChanged(group, [...info.channels.values()]);
    }
  }

  /** Drops channels silent for longer than `expiryMs`; returns their client ids. */
  expire(nowMs: number, expiryMs: number, notify: (group: string) => boolean): string[] {
    const removed: string[] = [];
    for (const [group, info] of this.#groups) {
      let changed = false;
      for (const [id, channel] of info.channels) {
        if (nowMs - channel.lastUpdateMs > expiryMs) {
          info.channels.delete(id);
          removed.push(channel.clientId);
          changed = true;
        }
      }
      if (info.channels.size === 0) this.#groups.delete(group);
      else if (changed && notify(group)) this.#onIdsChanged(group, [...info.channels.values()]);
    }
    return removed;
  }

  /** The group, or undefined. */
  get(group: string): ConsumerGroupInfo | undefined {
    return this.#groups.get(group);
  }

  /** All groups. */
  groups(): IterableIterator<ConsumerGroupInfo> {
    return this.#groups.values();
  }

  /** Client ids of the group's channels. */
  clientIds(group: string): string[] {
    const info = this.#groups.get(group);
    return info ? [...info.channels.values()].map((c) => c.clientId) : [];
  }

  /** A channel of the group by client id. */
  findChannel(group: string, clientId: string): ClientChannel | undefined {
    const info = this.#groups.get(group);
    if (!info) return undefined;
    for (const channel of info.channels.values()) if (channel.clientId === clientId) return channel;
    return undefined;
  }

  /** The group's subscription to `topic`. */
  findSubscription(group: string, topic: string): SubscriptionData | undefined {
    return this.#groups.get(group)?.subscriptions.get(topic);
  }

  /** Groups subscribed to `topic`. */
  groupsOfTopic(topic: string): string[] {
    const groups: string[] = [];
    for (const info of this.#groups.values()) if (info.subscriptions.has(topic)) groups.push(info.groupName);
    return groups;
  }
}

/** Producer groups with their channels. */
export class ProducerManager {
  readonly #groups = new Map<string, Map<number, ClientChannel>>();

  /** Registers or refreshes a producer channel. */
  register(group: string, channel: ClientChannel): void {
    let channels = this.#groups.get(group);
    if (!channels) {
      if (this.#groups.size >= CLIENT_GROUPS_MAX) return;
      this.#groups.set(group, channels = new Map());
    }
    const existing = channels.get(channel.connection.id);
    if (existing) Object.assign(existing, channel);
    else if (channels.size < CHANNELS_PER_GROUP_MAX) channels.set(channel.connection.id, { ...channel });
  }

  /** Removes one connection from a group. */
  unregister(group: string, connectionId: number): void {
    const channels = this.#groups.get(group);
    if (channels?.delete(connectionId) && channels.size === 0) this.#groups.delete(group);
  }

  /** Removes a closed connection from every group. */
  connectionClosed(connectionId: number): void {
    for (const [group, channels] of this.#groups) {
      if (channels.delete(connectionId) && channels.size === 0) this.#groups.delete(group);
    }
  }

  /** Drops channels silent for longer than `expiryMs`. */
  expire(nowMs: number, expiryMs: number): void {
    for (const [group, channels] of this.#groups) {
      for (const [id, channel] of channels) if (nowMs - channel.lastUpdateMs > expiryMs) channels.delete(id);
      if (channels.size === 0) this.#groups.delete(group);
    }
  }

  /** The group's channels. */
  channels(group: string): ClientChannel[] {
    return [...(this.#groups.get(group)?.values() ?? [])];
  }

  /**
   * A producer channel by client id, in any group (RocketMQ `ProducerManager.findChannel`): where
   * a reply goes back to the client that sent the request.
   */
  findChannel(clientId: string): ClientChannel | undefined {
    for (const channels of this.#groups.values()) {
      for (const channel of channels.values()) if (channel.clientId === clientId) return channel;
    }
    return undefined;
  }

  /** All producer groups and their channels. */
  all(): Map<string, ClientChannel[]> {
    return new Map([...this.#groups].map(([group, channels]) => [group, [...channels.values()]]));
  }
}
