/**
 * Errors of admin operations, each with the HTTP status the admin API answers it with and a
 * stable name (`{ code, name, message }` on the wire). The CLI prints the message on one line.
 *
 * @module
 */

import { ResponseError } from "../protocol/errors.ts";
import { ResponseCode, responseCodeName } from "../protocol/response_code.ts";

/** An operation that failed for a reason the caller can act on. */
export class AdminOpError extends Error {
  /** The HTTP status that answers it. */
  readonly status: number;

  constructor(status: number, name: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.name = name;
  }
}

/** A topic, group, broker or message that does not exist. */
export class NotFoundError extends AdminOpError {
  constructor(message: string, options?: ErrorOptions) {
    super(404, "NotFound", message, options);
  }
}

/** A bad argument: missing, malformed or out of range. */
export class InvalidArgumentError extends AdminOpError {
  constructor(message: string, options?: ErrorOptions) {
    super(400, "InvalidArgument", message, options);
  }
}

/** A NameServer or broker that could not be reached or did not answer in time. */
export class UnreachableError extends AdminOpError {
  constructor(message: string, options?: ErrorOptions) {
    super(502, "Unreachable", message, options);
  }
}

/** An operation that conflicts with one in progress or with the current state. */
export class ConflictError extends AdminOpError {
  constructor(message: string, options?: ErrorOptions) {
    super(409, "Conflict", message, options);
  }
}

/** Too many requests of a rate-limited kind. */
export class RateLimitedError extends AdminOpError {
  /** Seconds until a retry can succeed. */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(429, "RateLimited", message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** HTTP status for a broker's or NameServer's non-success response code. */
function statusOfResponseCode(code: number): number {
  switch (code) {
    case ResponseCode.TOPIC_NOT_EXIST:
    case ResponseCode.QUERY_NOT_FOUND:
    case ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST:
    case ResponseCode.SUBSCRIPTION_NOT_EXIST:
    case ResponseCode.NO_MESSAGE:
    case ResponseCode.PULL_NOT_FOUND:
      return 404;
    case ResponseCode.NO_PERMISSION:
      return 403;
    case ResponseCode.INVALID_PARAMETER:
    case ResponseCode.MESSAGE_ILLEGAL:
      return 400;
    case ResponseCode.CONSUMER_NOT_ONLINE:
      return 409;
    case ResponseCode.SYSTEM_BUSY:
    case ResponseCode.SERVICE_NOT_AVAILABLE:
      return 503;
    default:
      return 502;
  }
}

/** A non-success answer of a broker or NameServer; its name is RocketMQ's response code name. */
export class RemoteResponseError extends AdminOpError {
  /** The RocketMQ response code. */
  readonly responseCode: number;

  constructor(responseCode: number, message: string) {
    super(statusOfResponseCode(responseCode), responseCodeName(responseCode), message);
    this.responseCode = responseCode;
  }
}

/** Converts any error to an {@linkcode AdminOpError} (unknown errors become 500 "InternalError"). */
export function toAdminOpError(error: unknown): AdminOpError {
  if (error instanceof AdminOpError) return error;
  if (error instanceof ResponseError) return new RemoteResponseError(error.code, error.message);
  if (error instanceof RangeError || error instanceof TypeError && /Invalid|expected/.test(error.message)) {
    return new InvalidArgumentError(error.message, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AdminOpError(500, "InternalError", message, { cause: error });
}
