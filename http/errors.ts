/**
 * The one error shape of the HTTP admin: `{ code, name, message }` with `code` the HTTP status,
 * `name` a stable identifier (RocketMQ's response code name for a broker's refusal, e.g.
 * `TOPIC_NOT_EXIST`) and `message` one line.
 *
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AdminOpError, RateLimitedError, toAdminOpError } from "../ops/errors.ts";

/** The JSON body of every error answer. */
export interface ErrorBody {
  code: number;
  name: string;
  message: string;
}

const NAMES: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  413: "PayloadTooLarge",
  415: "UnsupportedMediaType",
  429: "RateLimited",
  500: "InternalError",
  503: "Busy",
  504: "Timeout",
};

/** An HTTP-level refusal (auth, limits, media type) with its stable name. */
export class HttpError extends HTTPException {
  readonly errorName: string;

  constructor(status: ContentfulStatusCode, message: string, name?: string) {
    super(status, { message });
    this.errorName = name ?? NAMES[status] ?? `Http${status}`;
  }
}

/** The error body and status for any thrown value. */
export function errorBody(error: unknown): ErrorBody {
  if (error instanceof HttpError) return { code: error.status, name: error.errorName, message: error.message };
  if (error instanceof HTTPException) {
    const message = error.message || (error.status === 504 ? "The request took too long" : "Request refused");
    return { code: error.status, name: NAMES[error.status] ?? `Http${error.status}`, message };
  }
  const op = toAdminOpError(error);
  return { code: op.status, name: op.name, message: op.message.split("\n")[0] };
}

/** Answers `error` as JSON; `log` receives unexpected (500) errors. */
export function errorResponse(c: Context, error: unknown, log?: (error: unknown) => void): Response {
  const body = errorBody(error);
  if (
    body.code >= 500 && !(error instanceof AdminOpError && error.status !== 500) && !(error instanceof HTTPException)
  ) {
    log?.(error);
  }
  if (error instanceof RateLimitedError) c.header("Retry-After", String(error.retryAfterSeconds));
  return c.json(body, body.code as ContentfulStatusCode);
}
