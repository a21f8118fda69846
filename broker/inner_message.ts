/**
 * Messages on their way into the store: the last rules RocketMQ's `CommitLog` applies before an
 * append — delay levels redirect to `SCHEDULE_TOPIC_XXXX`, a sender's WAIT property becomes the flush
 * wait and leaves the stored properties (unless the message is delayed), tags become the consume-queue tags code, KEYS and
 * UNIQ_KEY become index keys.
 *
 * @module
 */

import {
  encodeProperties,
  KEY_SEPARATOR,
  MessageProperty,
  MessageSysFlag,
  type SocketAddress,
  tagsHashCode,
} from "../protocol/message.ts";
import type { StoreMessage } from "./store/store.ts";
import { SCHEDULE_TOPIC } from "./topics.ts";

/** A message being prepared, properties still editable. */
export interface InnerMessage {
  topic: string;
  queueId: number;
  flag: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: SocketAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Uint8Array;
  properties: Map<string, string>;
  /**
   * Delivered from the schedule topic: its DELAY property stays in the stored properties, as
   * RocketMQ keeps it (consumers see the level it waited at), but is not applied again.
   */
  delayDone?: boolean;
  /**
   * Whether the append waits for the flush, when the broker decides it rather than the sender.
   * Then the properties are stored as they are, WAIT included: RocketMQ's send-back writes
   * WAIT=false into the retry copy, and the schedule re-stores a record's properties unchanged.
   * Unset, a WAIT property is the sender's choice and leaves the stored properties.
   */
  waitForFlush?: boolean;
}

/** What {@linkcode toStoreMessage} needs from the broker. */
export interface StoreContext {
  storeHost: SocketAddress;
  /** Delay per level in ms, level 1 first. */
  delayLevels: readonly number[];
  now: number;
}

/** Index keys of a message: its KEYS tokens and its UNIQ_KEY. */
export function indexKeysOf(properties: Map<string, string>): string[] {
  const keys: string[] = [];
  const uniq = properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
  if (uniq) keys.push(uniq);
  const text = properties.get(MessageProperty.KEYS);
  if (text) { for (const key of text.split(KEY_SEPARATOR)) if (key.length > 0) keys.push(key); }
  return keys;
}

/** The delay level a message asks for (0 when none or malformed). */
export function delayLevelOf(properties: Map<string, string>): number {
  const raw = properties.get(MessageProperty.DELAY);
  if (!raw) return 0;
  const level = Number(raw);
  return Number.isInteger(level) && level > 0 ? level : 0;
}

/**
 * Applies the commit-log rules and returns what the store appends. Mutates `message` (topic,
 * queue and properties of a delayed message are redirected, as RocketMQ does).
 */
export function toStoreMessage(message: InnerMessage, context: StoreContext): StoreMessage {
  const props = message.properties;
  let waitForFlush = message.waitForFlush;
  let senderWait: string | undefined;
  if (waitForFlush === undefined) {
    senderWait = props.get(MessageProperty.WAIT);
    waitForFlush = senderWait !== "false";
    props.delete(MessageProperty.WAIT);
  }
  let tagsCode = tagsHashCode(props.get(MessageProperty.TAGS));
  const transactionType = message.sysFlag & MessageSysFlag.TRANSACTION_MASK;
  let level = message.delayDone ? 0 : delayLevelOf(props);
  if (
    level > 0 &&
    (transactionType === MessageSysFlag.TRANSACTION_NOT_TYPE ||
      transactionType === MessageSysFlag.TRANSACTION_COMMIT_TYPE)
  ) {
    const maxLevel = context.delayLevels.length;
    if (level > maxLevel) {
      level = maxLevel;
      props.set(MessageProperty.DELAY, String(level));
    }
    props.set(MessageProperty.REAL_TOPIC, message.topic);
    props.set(MessageProperty.REAL_QID, String(message.queueId));
    // RocketMQ re-encodes a delayed message's properties from its property map, where the
    // sender's WAIT still is: the scheduled record (and the delivered copy) keep it.
    if (senderWait !== undefined) props.set(MessageProperty.WAIT, senderWait);
    message.topic = SCHEDULE_TOPIC;
    message.queueId = level - 1;
    // The schedule queue's tags code is the delivery time.
    tagsCode = context.now + context.delayLevels[level - 1];
  }
  return {
    topic: message.topic,
    queueId: message.queueId,
    flag: message.flag,
    sysFlag: message.sysFlag,
    bornTimestamp: message.bornTimestamp,
    bornHost: message.bornHost,
    storeHost: context.storeHost,
    reconsumeTimes: message.reconsumeTimes,
    preparedTransactionOffset: message.preparedTransactionOffset,
    body: message.body,
    properties: encodeProperties(props),
    tagsCode,
    keys: indexKeysOf(props),
    waitForFlush,
  };
}
