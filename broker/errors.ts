/**
 * Broker operating errors and the one place store statuses become response codes.
 *
 * @module
 */

import { ResponseError } from "../protocol/errors.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { GetMessageStatus, PutMessageStatus } from "./store/store.ts";

/** An operating error of the broker, answered with its response code. */
export class BrokerError extends ResponseError {
  override name = "BrokerError";
}

/** A topic the broker does not serve. */
export class TopicNotFoundError extends BrokerError {
  override name = "TopicNotFoundError";
  constructor(topic: string) {
    super(
      ResponseCode.TOPIC_NOT_EXIST,
      `topic[${topic}] not exist, apply first please! See http://rocketmq.apache.org/docs/faq/ for further details.`,
    );
  }
}

/** A request the broker's or topic's permissions forbid. */
export class NoPermissionError extends BrokerError {
  override name = "NoPermissionError";
  constructor(message: string) {
    super(ResponseCode.NO_PERMISSION, message);
  }
}

/** A message that breaks a size or format rule. */
export class MessageIllegalError extends BrokerError {
  override name = "MessageIllegalError";
  constructor(message: string) {
    super(ResponseCode.MESSAGE_ILLEGAL, message);
  }
}

/** The response code and remark of a put's status. */
export function putStatusResponse(status: PutMessageStatus, reason: string): { code: number; remark?: string } {
  switch (status) {
    case PutMessageStatus.PUT_OK:
      return { code: ResponseCode.SUCCESS };
    case PutMessageStatus.FLUSH_DISK_TIMEOUT:
      // The message is stored; the client counts it as sent with status FLUSH_DISK_TIMEOUT.
      return { code: ResponseCode.FLUSH_DISK_TIMEOUT, remark: reason || "flush disk timeout" };
    case PutMessageStatus.MESSAGE_ILLEGAL:
    case PutMessageStatus.PROPERTIES_SIZE_EXCEEDED:
      return { code: ResponseCode.MESSAGE_ILLEGAL, remark: `the message is illegal: ${reason}` };
    case PutMessageStatus.SERVICE_NOT_AVAILABLE:
      return {
        code: ResponseCode.SERVICE_NOT_AVAILABLE,
        remark: `service not available now: ${reason || "the store is not writable"}`,
      };
    case PutMessageStatus.STORE_FENCED:
      return { code: ResponseCode.SERVICE_NOT_AVAILABLE, remark: `service not available now, store fenced: ${reason}` };
    case PutMessageStatus.DISK_FULL:
      return { code: ResponseCode.SERVICE_NOT_AVAILABLE, remark: `service not available now, disk full: ${reason}` };
    case PutMessageStatus.CREATE_MAPEDFILE_FAILED:
      return {
        code: ResponseCode.SYSTEM_ERROR,
        remark: `create mapped file failed, server is busy or broken: ${reason}`,
      };
    case PutMessageStatus.OS_PAGECACHE_BUSY:
      // RocketMQ answers SYSTEM_ERROR here so Java producers retry on another broker.
      return {
        code: ResponseCode.SYSTEM_ERROR,
        remark: `[PC_SYNCHRONIZED]broker busy, start flow control for a while: ${reason}`,
      };
    case PutMessageStatus.UNKNOWN_ERROR:
      return { code: ResponseCode.SYSTEM_ERROR, remark: `UNKNOWN_ERROR: ${reason}` };
    default: {
      const unmapped: never = status;
      throw new Error(`Unmapped put status ${unmapped}`);
    }
  }
}

/** The response code a pull answers for a read status (before long polling). */
export function getStatusCode(status: GetMessageStatus, requestOffset: number): number {
  switch (status) {
    case GetMessageStatus.FOUND:
      return ResponseCode.SUCCESS;
    case GetMessageStatus.NO_MATCHED_MESSAGE:
    case GetMessageStatus.MESSAGE_WAS_REMOVING:
      return ResponseCode.PULL_RETRY_IMMEDIATELY;
    case GetMessageStatus.NO_MESSAGE_IN_QUEUE:
    case GetMessageStatus.NO_MATCHED_LOGIC_QUEUE:
      return requestOffset !== 0 ? ResponseCode.PULL_OFFSET_MOVED : ResponseCode.PULL_NOT_FOUND;
    case GetMessageStatus.OFFSET_TOO_SMALL:
    case GetMessageStatus.OFFSET_OVERFLOW_BADLY:
      return ResponseCode.PULL_OFFSET_MOVED;
    case GetMessageStatus.OFFSET_OVERFLOW_ONE:
    case GetMessageStatus.OFFSET_FOUND_NULL:
      return ResponseCode.PULL_NOT_FOUND;
    default: {
      const unmapped: never = status;
      throw new Error(`Unmapped get status ${unmapped}`);
    }
  }
}
