/**
 * Transactional messages (RocketMQ 4.x `TransactionalMessageService` and its check service).
 *
 * A producer first sends a *half* message (TRAN_MSG=true). It is stored in
 * `RMQ_SYS_TRANS_HALF_TOPIC` queue 0 with its real topic and queue in REAL_TOPIC/REAL_QID, so no
 * consumer sees it. END_TRANSACTION then commits it (a copy goes to the real topic, COMMIT type)
 * or rolls it back; either way an *op* record (tag "d", body = the half message's queue offset) in
 * `RMQ_SYS_TRANS_OP_HALF_TOPIC` marks it done. Half messages left undecided longer than
 * `transactionTimeOut` are checked every `transactionCheckInterval`: the broker re-appends them
 * with TRANSACTION_CHECK_TIMES + 1 and asks a producer of their group (CHECK_TRANSACTION_STATE,
 * oneway), which answers with END_TRANSACTION. After `transactionCheckMax` checks they are moved to
 * `TRANS_CHECK_MAX_TIME_TOPIC`.
 *
 * Progress through both queues is kept as consumer offsets of the system group
 * `CID_SYS_RMQ_TRANS`, so it survives restarts like any group's.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { Perm } from "../protocol/bodies.ts";
import { createRequest } from "../protocol/command.ts";
import { toExtFields } from "../protocol/header.ts";
import {
  createOffsetMessageId,
  decodeMessageRecord,
  encodeMessageRecord,
  MessageProperty,
  type MessageRecord,
  MessageSysFlag,
  parseProperties,
  type SocketAddress,
} from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import type { ProducerManager } from "./clients.ts";
import type { ConsumerOffsetManager } from "./consumer_offsets.ts";
import type { InnerMessage } from "./inner_message.ts";
import { type MessageStore, type PutMessageResult, PutMessageStatus } from "./store/store.ts";
import { type TopicManager, TRANS_CHECK_MAX_TIME_TOPIC, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from "./topics.ts";

/** The system group whose offsets track the half and op queues. */
export const TRANSACTION_GROUP = "CID_SYS_RMQ_TRANS";
/** Tag of op records (`TransactionalMessageUtil.REMOVETAG`). */
const OP_TAG = "d";
/** The transaction property a committed message drops (`PROPERTY_TRANSACTION_PREPARED`). */
const TRAN_MSG = "TRAN_MSG";
const CHECK_TIMES = "TRANSACTION_CHECK_TIMES";
/** Half messages examined per check pass: a bound on one pass's work. */
const HALF_PER_PASS_MAX = 2000;
/** Op records read per check pass. */
const OP_PER_PASS_MAX = 20_000;

/** `commitOrRollback` values of END_TRANSACTION (the transaction-type sysFlag values). */
export const TransactionType = { NOT: 0, COMMIT: 8, ROLLBACK: 12 } as const;

/** Settings (RocketMQ names). */
export interface TransactionSettings {
  transactionTimeOut: number;
  transactionCheckMax: number;
  transactionCheckInterval: number;
}

/** The END_TRANSACTION request, decoded. */
export interface EndTransaction {
  producerGroup: string;
  tranStateTableOffset: number;
  commitLogOffset: number;
  commitOrRollback: number;
  fromTransactionCheck: boolean;
}

/** An END_TRANSACTION outcome: undefined for success, else the code and remark to answer. */
export type EndOutcome = { code: number; remark: string } | undefined;

const encoder = new TextEncoder();

/** Turns a send into its half message (in place). */
export function prepareHalfMessage(message: InnerMessage): void {
  message.properties.set(MessageProperty.REAL_TOPIC, message.topic);
  message.properties.set(MessageProperty.REAL_QID, String(message.queueId));
  // A half message is never delayed; Java producers clear DELAY for transactions too.
  message.properties.delete(MessageProperty.DELAY);
  message.sysFlag &= ~MessageSysFlag.TRANSACTION_MASK;
  message.topic = TRANS_HALF_TOPIC;
  message.queueId = 0;
}

/** Transaction state and the check loop. */
export class TransactionService {
  readonly #store: MessageStore;
  readonly #topics: TopicManager;
  readonly #offsets: ConsumerOffsetManager;
  readonly #producers: ProducerManager;
  readonly #putInner: (message: InnerMessage) => Promise<PutMessageResult>;
  readonly #settings: TransactionSettings;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #storeHost: () => SocketAddress;
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking: Promise<void> | undefined;

  constructor(options: {
    store: MessageStore;
    topics: TopicManager;
    offsets: ConsumerOffsetManager;
    producers: ProducerManager;
    putInner: (message: InnerMessage) => Promise<PutMessageResult>;
    settings: TransactionSettings;
    log: Logger;
    /** This broker's address: op records are born here. */
    storeHost: () => SocketAddress;
    now?: () => number;
  }) {
    this.#storeHost = options.storeHost;
    this.#store = options.store;
    this.#topics = options.topics;
    this.#offsets = options.offsets;
    this.#producers = options.producers;
    this.#putInner = options.putInner;
    this.#settings = options.settings;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /** Makes sure the half and op topics exist (as RocketMQ creates them on first use). */
  ensureTopics(): void {
    for (const topic of [TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC]) this.#topics.ensure(topic, 1, Perm.READ | Perm.WRITE);
  }

  /** Starts the periodic check. */
  start(): void {
    this.#timer = setInterval(() => void this.checkNow(), this.#settings.transactionCheckInterval);
  }

  /** Stops the periodic check (waits for a pass in progress). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#checking;
  }

  /** Commits or rolls back a half message. */
  async end(request: EndTransaction): Promise<EndOutcome> {
    const record = await this.#store.readRecord(request.commitLogOffset);
    const half = record ? decodeMessageRecord(record, 0, { copyBody: true }) : undefined;
    const problem = checkHalf(half, request);
    if (problem) return { code: 1, remark: problem };
    const properties = parseProperties(half!.properties);
    if (request.commitOrRollback === TransactionType.COMMIT) {
      const realTopic = properties.get(MessageProperty.REAL_TOPIC) ?? "";
      const realQueueId = Number(properties.get(MessageProperty.REAL_QID) ?? "0");
      properties.delete(MessageProperty.REAL_TOPIC);
      properties.delete(MessageProperty.REAL_QID);
      properties.delete(TRAN_MSG);
      properties.set(MessageProperty.WAIT, "false");
      const result = await this.#putInner({
        topic: realTopic,
        queueId: Number.isInteger(realQueueId) ? realQueueId : 0,
        flag: half!.flag,
        sysFlag: (half!.sysFlag & ~MessageSysFlag.TRANSACTION_MASK) | MessageSysFlag.TRANSACTION_COMMIT_TYPE,
        bornTimestamp: half!.bornTimestamp,
        bornHost: half!.bornHost,
        reconsumeTimes: half!.reconsumeTimes,
        preparedTransactionOffset: request.commitLogOffset,
        body: half!.body,
        properties,
      });
      if (result.status !== PutMessageStatus.PUT_OK && result.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
        return { code: 1, remark: `Cannot commit the transaction: ${result.status} ${result.reason}` };
      }
    }
    await this.#markDone(half!.queueOffset);
    return undefined;
  }

  /** Runs one check pass now (tests call this; the timer calls it periodically). */
  checkNow(): Promise<void> {
    this.#checking ??= this.#check().catch((error) => {
      this.#log.error("Transaction check failed: {error}", { error: (error as Error).stack ?? String(error) });
    }).finally(() => this.#checking = undefined);
    return this.#checking;
  }

  async #markDone(halfQueueOffset: number): Promise<void> {
    await this.#putInner({
      topic: TRANS_OP_HALF_TOPIC,
      queueId: 0,
      flag: 0,
      sysFlag: 0,
      bornTimestamp: this.#now(),
      bornHost: this.#storeHost(),
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body: encoder.encode(String(halfQueueOffset)),
      properties: new Map([[MessageProperty.TAGS, OP_TAG], [MessageProperty.WAIT, "false"]]),
    });
  }

  async #check(): Promise<void> {
    const store = this.#store;
    const halfMax = store.maxQueueOffset(TRANS_HALF_TOPIC, 0);
    let halfOffset = Math.max(
      this.#offsets.query(TRANSACTION_GROUP, TRANS_HALF_TOPIC, 0),
      store.minQueueOffset(TRANS_HALF_TOPIC, 0),
      0,
    );
    if (halfOffset >= halfMax) return;
    // What the op queue says is decided.
    const opStart = Math.max(
      this.#offsets.query(TRANSACTION_GROUP, TRANS_OP_HALF_TOPIC, 0),
      store.minQueueOffset(TRANS_OP_HALF_TOPIC, 0),
      0,
    );
    const decided = new Set<number>();
    const opRefs: number[] = [];
    const opUnits = store.getQueueUnits(TRANS_OP_HALF_TOPIC, 0, opStart, OP_PER_PASS_MAX);
    for (const unit of opUnits) {
      const record = await store.readRecord(unit.commitLogOffset);
      const ref = record ? Number(new TextDecoder().decode(decodeMessageRecord(record).body)) : NaN;
      opRefs.push(ref);
      if (Number.isSafeInteger(ref)) decided.add(ref);
    }
    const now = this.#now();
    for (let examined = 0; halfOffset < halfMax && examined < HALF_PER_PASS_MAX; examined++) {
      if (decided.has(halfOffset)) {
        halfOffset++;
        continue;
      }
      const [unit] = store.getQueueUnits(TRANS_HALF_TOPIC, 0, halfOffset, 1);
      const record = unit ? await store.readRecord(unit.commitLogOffset) : undefined;
      if (!record) {
        halfOffset++;
        continue;
      }
      const half = decodeMessageRecord(record, 0, { copyBody: true });
      const properties = parseProperties(half.properties);
      const immunityMs = Number(properties.get(MessageProperty.CHECK_IMMUNITY_TIME_IN_SECONDS) ?? 0) * 1000 ||
        this.#settings.transactionTimeOut;
      if (now - half.bornTimestamp < immunityMs) break; // younger ones follow: look again next pass
      const checks = Number(properties.get(CHECK_TIMES) ?? 0) || 0;
      if (checks >= this.#settings.transactionCheckMax) {
        await this.#discard(half, properties, checks);
      } else {
        await this.#renewAndCheck(half, properties, checks + 1);
      }
      halfOffset++;
    }
    this.#offsets.commit(TRANSACTION_GROUP, TRANS_HALF_TOPIC, 0, halfOffset);
    // Op records that refer to half messages now behind us are consumed.
    let opOffset = opStart;
    for (const ref of opRefs) {
      if (Number.isSafeInteger(ref) && ref >= halfOffset) break;
      opOffset++;
    }
    this.#offsets.commit(TRANSACTION_GROUP, TRANS_OP_HALF_TOPIC, 0, opOffset);
  }

  async #discard(half: MessageRecord, properties: Map<string, string>, checks: number): Promise<void> {
    this.#topics.ensure(TRANS_CHECK_MAX_TIME_TOPIC, 1, Perm.READ | Perm.WRITE);
    this.#log.warn("Transaction half message {offset} checked {checks} times without an answer: moved to {topic}", {
      offset: half.commitLogOffset,
      checks,
      topic: TRANS_CHECK_MAX_TIME_TOPIC,
    });
    await this.#putInner({ ...innerOf(half, properties), topic: TRANS_CHECK_MAX_TIME_TOPIC, queueId: 0 });
  }

  async #renewAndCheck(half: MessageRecord, properties: Map<string, string>, checks: number): Promise<void> {
    properties.set(CHECK_TIMES, String(checks));
    const renewed = await this.#putInner(innerOf(half, properties));
    if (renewed.status !== PutMessageStatus.PUT_OK && renewed.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
      this.#log.warn("Cannot re-append half message {offset}: {status}", {
        offset: half.commitLogOffset,
        status: renewed.status,
      });
      return;
    }
    const group = properties.get(MessageProperty.PGROUP) ?? "";
    const channels = this.#producers.channels(group);
    if (channels.length === 0) {
      this.#log.info("No producer of group {group} online to check transaction {msgId}", {
        group,
        msgId: properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX),
      });
      return;
    }
    const channel = channels[Math.floor(Math.random() * channels.length)];
    const uniqKey = properties.get(MessageProperty.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? "";
    // The body is the message as the producer sent it: its real topic and queue.
    const body = encodeMessageRecord({
      ...half,
      topic: properties.get(MessageProperty.REAL_TOPIC) ?? half.topic,
      queueId: Number(properties.get(MessageProperty.REAL_QID) ?? "0") || 0,
      queueOffset: renewed.queueOffset,
      commitLogOffset: renewed.commitLogOffset,
      storeTimestamp: renewed.storeTimestamp,
      properties: [...properties].map(([k, v]) => `${k}\u0001${v}`).join("\u0002"),
    });
    channel.connection.oneway(createRequest(
      RequestCode.CHECK_TRANSACTION_STATE,
      toExtFields({
        tranStateTableOffset: renewed.queueOffset,
        commitLogOffset: renewed.commitLogOffset,
        msgId: uniqKey,
        transactionId: uniqKey,
        offsetMsgId: renewed.messageId || createOffsetMessageId(half.storeHost, renewed.commitLogOffset),
      }),
      { body },
    ));
  }
}

function innerOf(half: MessageRecord, properties: Map<string, string>): InnerMessage {
  return {
    topic: TRANS_HALF_TOPIC,
    queueId: 0,
    flag: half.flag,
    sysFlag: half.sysFlag,
    bornTimestamp: half.bornTimestamp,
    bornHost: half.bornHost,
    reconsumeTimes: half.reconsumeTimes,
    preparedTransactionOffset: half.preparedTransactionOffset,
    body: half.body,
    properties: new Map([...properties, [MessageProperty.WAIT, "false"]]),
  };
}

/** RocketMQ's `checkPrepareMessage`, with its remarks. */
function checkHalf(half: MessageRecord | undefined, request: EndTransaction): string | undefined {
  if (!half || half.topic !== TRANS_HALF_TOPIC) return "Find prepared transaction message failed";
  const group = parseProperties(half.properties).get(MessageProperty.PGROUP);
  if (group !== request.producerGroup) return "The producer group wrong";
  if (half.queueOffset !== request.tranStateTableOffset) return "The transaction state table offset wrong";
  if (half.commitLogOffset !== request.commitLogOffset) return "The commit log offset wrong";
  return undefined;
}
