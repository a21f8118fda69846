/**
 * Errors the client raises that callers may want to tell apart. Validation failures use the
 * built-in `TypeError`/`RangeError`; connection failures and timeouts are
 * {@linkcode RemotingTransportError} (from `remoting_client.ts`).
 *
 * @module
 */

import { ResponseError } from "../protocol/errors.ts";
import { responseCodeName } from "../protocol/response_code.ts";

/**
 * A broker or NameServer answered with a non-success response code.
 *
 * @example Telling a missing topic apart
 * ```ts
 * import { BrokerResponseError } from "./errors.ts";
 * import { ResponseCode } from "../protocol/response_code.ts";
 *
 * const error = new BrokerResponseError(ResponseCode.TOPIC_NOT_EXIST, "No topic route for \"t\"", "topic not exist");
 * console.assert(error.code === 17 && error.codeName === "TOPIC_NOT_EXIST");
 * ```
 */
export class BrokerResponseError extends ResponseError {
  override name = "BrokerResponseError";
  /** The server's remark, if any. */
  readonly remark: string | undefined;
  /** The server that answered. */
  readonly addr: string | undefined;

  constructor(code: number, message: string, remark?: string, addr?: string, options?: ErrorOptions) {
    super(code, message, options);
    this.remark = remark;
    this.addr = addr;
  }

  /** RocketMQ's name for {@linkcode code}. */
  get codeName(): string {
    return responseCodeName(this.code);
  }
}

/** A call was made on a client that has been shut down. */
export class ClientClosedError extends Error {
  override name = "ClientClosedError";
}
