/**
 * Tag subscriptions (`"TagA || TagB"` or `"*"`), parsed as Java's `FilterAPI.buildSubscriptionData`
 * does, and their `SubscriptionData` JSON as heartbeats and running-info replies carry it.
 *
 * @module
 */

import { javaStringHashCode } from "../protocol/message.ts";

/** Subscribes to every tag. */
export const SUBSCRIBE_ALL = "*";

/** A parsed subscription of one topic. */
export interface Subscription {
  readonly topic: string;
  /** The expression as given, `*` for everything. */
  readonly expression: string;
  /** Tags to accept; empty means all. */
  readonly tags: ReadonlySet<string>;
  /** Java `String.hashCode` of each tag: what the broker compares with the consume-queue tag code. */
  readonly codes: ReadonlySet<number>;
  /** Creation time, ms: the broker keeps the newest version of a group's subscription. */
  readonly subVersion: number;
}

/**
 * Parses a tag expression: `*` (or empty) for all tags, else tags separated by `||`.
 *
 * @example
 * ```ts
 * import { parseSubscription } from "./subscription.ts";
 *
 * const sub = parseSubscription("orders", "TagA || TagB");
 * console.assert(sub.tags.has("TagA") && sub.codes.has(2598919));
 * ```
 */
export function parseSubscription(topic: string, expression = SUBSCRIBE_ALL, now = Date.now()): Subscription {
  const text = expression.trim();
  const tags = new Set<string>();
  const codes = new Set<number>();
  if (text === "" || text === SUBSCRIBE_ALL) {
    return { topic, expression: SUBSCRIBE_ALL, tags, codes, subVersion: now };
  }
  for (const part of text.split("||")) {
    const tag = part.trim();
    if (tag === "") continue;
    tags.add(tag);
    codes.add(javaStringHashCode(tag));
  }
  return { topic, expression: text, tags, codes, subVersion: now };
}

/** `SubscriptionData` JSON, fields in fastjson's order. */
export function subscriptionJson(sub: Subscription): Record<string, unknown> {
  return {
    classFilterMode: false,
    codeSet: [...sub.codes],
    expressionType: "TAG",
    subString: sub.expression,
    subVersion: sub.subVersion,
    tagsSet: [...sub.tags],
    topic: sub.topic,
  };
}
