/**
 * The dead-letter workflow over the admin protocol: browse a group's DLQ (`%DLQ%<group>`), resend
 * one message, or redrive all of them, each back to the group's retry topic (`%RETRY%<group>`),
 * so only that group consumes it again, with its client id, keys, tags and original topic kept
 * and its reconsume count reset to 0.
 *
 * A redrive runs at a bounded rate, stops at the DLQ's end as it was when the redrive started
 * (a message that fails again and returns is not chased), stops at the first failed resend, and
 * records its progress as the offset of the `DLQ_REDRIVE_CURSOR` group on the DLQ topic, so a
 * second run resumes rather than resending. Every outcome goes to the audit log.
 *
 * @module
 */

import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { type AdminOps, BODY_PREVIEW_BYTES, checkName, PULL_MESSAGES_MAX, type SendResult } from "./admin_ops.ts";
import type { AuditLog } from "./audit.ts";
import { InvalidArgumentError, NotFoundError } from "./errors.ts";
import type { MessageView } from "./message_view.ts";
import { RateLimiter } from "./rate_limit.ts";

/** The group whose committed offset on a DLQ topic marks how far redrives got. */
export const REDRIVE_CURSOR_GROUP = "DLQ_REDRIVE_CURSOR";
/** Messages one redrive resends at most, whatever is asked: bounds the work one command causes. */
export const REDRIVE_MESSAGES_MAX = 100_000;
/** Default messages per redrive. */
export const REDRIVE_MESSAGES_DEFAULT = 1000;
/** Default redrive rate, messages per second. */
export const REDRIVE_RATE_DEFAULT = 10;

/** Properties that belong to one delivery, not to the message: dropped on resend. */
const DELIVERY_PROPERTIES = [
  "UNIQ_KEY",
  "WAIT",
  "DELAY",
  "REAL_TOPIC",
  "REAL_QID",
  "MIN_OFFSET",
  "MAX_OFFSET",
  "CONSUME_START_TIME",
  "TRAN_MSG",
  "PGROUP",
];

/** The DLQ topic of a group. */
export function dlqTopicOf(group: string): string {
  return `%DLQ%${group}`;
}

/** The retry topic of a group. */
export function retryTopicOf(group: string): string {
  return `%RETRY%${group}`;
}

/** One DLQ queue as browsed. */
export interface DlqQueuePage {
  brokerName: string;
  queueId: number;
  minOffset: number;
  maxOffset: number;
  /** Where the redrive cursor stands; -1 when no redrive ran. */
  redriveOffset: number;
  fromOffset: number;
  nextOffset: number;
  messages: MessageView[];
}

/** A DLQ page. */
export interface DlqPage {
  group: string;
  topic: string;
  /** Messages stored over every queue. */
  total: number;
  queues: DlqQueuePage[];
}

/** The outcome of one message's resend. */
export interface DlqOutcome {
  msgId: string;
  offsetMsgId: string;
  brokerName: string;
  queueOffset: number;
  outcome: "resent" | "failed";
  detail: string;
  /** Where it went. */
  sent?: SendResult;
}

/** What a redrive did. */
export interface RedriveReport {
  group: string;
  resent: number;
  failed: number;
  /** Why it stopped: "done", "limit", "failed", "aborted". */
  stoppedBy: "done" | "limit" | "failed" | "aborted";
  outcomes: DlqOutcome[];
}

/** Options for {@linkcode DlqOps}. */
export interface DlqOpsOptions {
  audit: AuditLog;
  /** Who acts, for the audit log. */
  actor: string;
}

/** DLQ browse, resend and redrive. */
export class DlqOps {
  readonly #ops: AdminOps;
  readonly #audit: AuditLog;
  readonly #actor: string;

  constructor(ops: AdminOps, options: DlqOpsOptions) {
    this.#ops = ops;
    this.#audit = options.audit;
    this.#actor = options.actor;
  }

  /** The DLQ's queues, each with its offsets, redrive cursor and a page of messages. */
  async browse(
    group: string,
    options: { fromOffset?: number; max?: number; brokerName?: string } = {},
  ): Promise<DlqPage> {
    checkName(group, "group");
    const topic = dlqTopicOf(group);
    const route = await this.#dlqRoute(group);
    const max = Math.max(1, Math.min(options.max ?? 20, PULL_MESSAGES_MAX));
    const page: DlqPage = { group, topic, total: 0, queues: [] };
    for (const q of route) {
      if (options.brokerName && q.brokerName !== options.brokerName) continue;
      const addr = await this.#ops.masterAddr(q.brokerName);
      for (let queueId = 0; queueId < q.queues; queueId++) {
        const cursor = await this.#cursor(addr, topic, queueId);
        const first = await this.#ops.pullMessages(topic, q.brokerName, queueId, 0, { maxCount: 1 });
        const minOffset = first.minOffset;
        const from = Math.max(options.fromOffset ?? minOffset, minOffset);
        const pulled = from >= first.maxOffset
          ? { ...first, messages: [], nextBeginOffset: from }
          : await this.#ops.pullMessages(topic, q.brokerName, queueId, from, {
            maxCount: max,
            bodyBytesMax: BODY_PREVIEW_BYTES,
          });
        page.total += Math.max(0, first.maxOffset - minOffset);
        page.queues.push({
          brokerName: q.brokerName,
          queueId,
          minOffset,
          maxOffset: first.maxOffset,
          redriveOffset: cursor,
          fromOffset: from,
          nextOffset: pulled.nextBeginOffset,
          messages: pulled.messages,
        });
      }
    }
    return page;
  }

  /**
   * Resends one DLQ message to the group's retry topic.
   *
   * @throws {NotFoundError} when the message is not in the group's DLQ.
   */
  async resend(group: string, msgId: string): Promise<DlqOutcome> {
    checkName(group, "group");
    const topic = dlqTopicOf(group);
    const message = await this.#ops.queryById(msgId, topic);
    if (message.topic !== topic) {
      throw new NotFoundError(`Message "${msgId}" is in topic "${message.topic}", not in the DLQ "${topic}"`);
    }
    const outcome = await this.#resendOne(group, message);
    this.#audit.record({
      actor: this.#actor,
      action: "dlq.resend",
      target: `${group}/${message.msgId}`,
      outcome: outcome.outcome === "resent" ? "ok" : "failed",
      detail: { ...outcome, sent: outcome.sent?.offsetMsgId },
    });
    return outcome;
  }

  /**
   * Resends every DLQ message from the redrive cursor to the DLQ's end (as of the start), at
   * `rate` messages a second and at most `max` messages, calling `onOutcome` for each.
   */
  async redrive(
    group: string,
    options: {
      rate?: number;
      max?: number;
      signal?: AbortSignal;
      onOutcome?: (outcome: DlqOutcome) => void;
      now?: () => number;
    } = {},
  ): Promise<RedriveReport> {
    checkName(group, "group");
    const max = options.max ?? REDRIVE_MESSAGES_DEFAULT;
    if (!Number.isInteger(max) || max < 1 || max > REDRIVE_MESSAGES_MAX) {
      throw new InvalidArgumentError(`Invalid max ${max}: expected 1-${REDRIVE_MESSAGES_MAX} messages`);
    }
    const limiter = new RateLimiter(options.rate ?? REDRIVE_RATE_DEFAULT, 1, options.now);
    const topic = dlqTopicOf(group);
    const route = await this.#dlqRoute(group);
    const report: RedriveReport = { group, resent: 0, failed: 0, stoppedBy: "done", outcomes: [] };
    this.#audit.record({
      actor: this.#actor,
      action: "dlq.redrive",
      target: group,
      outcome: "started",
      detail: { rate: limiter.ratePerSecond, max },
    });
    const finish = (stoppedBy: RedriveReport["stoppedBy"]) => {
      report.stoppedBy = stoppedBy;
      this.#audit.record({
        actor: this.#actor,
        action: "dlq.redrive",
        target: group,
        outcome: stoppedBy === "failed" ? "failed" : stoppedBy === "aborted" ? "stopped" : "finished",
        detail: { resent: report.resent, failed: report.failed, stoppedBy },
      });
      return report;
    };
    for (const q of route) {
      const addr = await this.#ops.masterAddr(q.brokerName);
      for (let queueId = 0; queueId < q.queues; queueId++) {
        const head = await this.#ops.pullMessages(topic, q.brokerName, queueId, 0, { maxCount: 1 });
        const end = head.maxOffset;
        let offset = Math.max(await this.#cursor(addr, topic, queueId), head.minOffset);
        while (offset < end) {
          const pulled = await this.#ops.pullMessages(topic, q.brokerName, queueId, offset, {
            maxCount: PULL_MESSAGES_MAX,
            bodyBytesMax: Number.MAX_SAFE_INTEGER,
          });
          if (pulled.status === "OFFSET_ILLEGAL") {
            offset = Math.max(pulled.nextBeginOffset, pulled.minOffset);
            continue;
          }
          if (pulled.messages.length === 0) break;
          for (const message of pulled.messages) {
            if (message.queueOffset >= end) break;
            if (report.resent + report.failed >= max) return finish("limit");
            try {
              await limiter.take(options.signal);
            } catch {
              return finish("aborted");
            }
            const outcome = await this.#resendOne(group, message);
            report.outcomes.push(outcome);
            options.onOutcome?.(outcome);
            this.#audit.record({
              actor: this.#actor,
              action: "dlq.redrive.message",
              target: `${group}/${message.msgId}`,
              outcome: outcome.outcome === "resent" ? "ok" : "failed",
              detail: { queueOffset: message.queueOffset, detail: outcome.detail, sent: outcome.sent?.offsetMsgId },
            });
            if (outcome.outcome === "failed") {
              report.failed++;
              return finish("failed");
            }
            report.resent++;
            offset = message.queueOffset + 1;
            await this.#ops.callOk(addr, RequestCode.UPDATE_CONSUMER_OFFSET, {
              consumerGroup: REDRIVE_CURSOR_GROUP,
              topic,
              queueId: String(queueId),
              commitOffset: String(offset),
            });
          }
          offset = Math.max(offset, Math.min(pulled.nextBeginOffset, end));
        }
      }
    }
    return finish("done");
  }

  async #resendOne(group: string, message: MessageView): Promise<DlqOutcome> {
    const properties: Record<string, string> = { ...message.properties };
    for (const name of DELIVERY_PROPERTIES) delete properties[name];
    properties.RETRY_TOPIC ??= message.properties.REAL_TOPIC ?? message.topic;
    properties.ORIGIN_MESSAGE_ID ??= message.offsetMsgId;
    const base = {
      msgId: message.msgId,
      offsetMsgId: message.offsetMsgId,
      brokerName: message.brokerName,
      queueOffset: message.queueOffset,
    };
    if (message.bodyTruncated) {
      return { ...base, outcome: "failed", detail: "the body could not be read whole" };
    }
    try {
      const body = message.bodyEncoding === "utf8"
        ? message.body
        : Uint8Array.from(atob(message.body), (c) => c.charCodeAt(0));
      const sent = await this.#ops.sendMessage({
        topic: retryTopicOf(group),
        body,
        brokerName: message.brokerName,
        properties,
        reconsumeTimes: 0,
        uniqKey: message.msgId !== message.offsetMsgId ? message.msgId : undefined,
        producerGroup: "DLQ_REDRIVE_PRODUCER",
      });
      return { ...base, outcome: "resent", detail: `to ${retryTopicOf(group)} queue ${sent.queueId}`, sent };
    } catch (error) {
      return { ...base, outcome: "failed", detail: (error as Error).message };
    }
  }

  /** Where the redrive cursor stands on a DLQ queue; -1 when no redrive ran. */
  async #cursor(addr: string, topic: string, queueId: number): Promise<number> {
    const response = await this.#ops.call(addr, RequestCode.QUERY_CONSUMER_OFFSET, {
      consumerGroup: REDRIVE_CURSOR_GROUP,
      topic,
      queueId: String(queueId),
      setZeroIfNotFound: "false",
    });
    return response.code === ResponseCode.SUCCESS ? Number(response.extFields.offset ?? -1) : -1;
  }

  async #dlqRoute(group: string): Promise<{ brokerName: string; queues: number }[]> {
    let route;
    try {
      route = await this.#ops.topicRoute(dlqTopicOf(group));
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new NotFoundError(`Consumer group "${group}" has no dead-letter queue: no message of it went to the DLQ`);
      }
      throw error;
    }
    return route.queueDatas
      .map((q) => ({ brokerName: q.brokerName, queues: Math.max(q.readQueueNums, q.writeQueueNums) }))
      .sort((a, b) => a.brokerName.localeCompare(b.brokerName));
  }
}
