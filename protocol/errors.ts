/**
 * Errors raised while decoding input from the network.
 *
 * @module
 */

/**
 * Input that does not follow the remoting protocol: a bad frame, header or message record.
 *
 * A `ProtocolError` raised while framing closes the connection (framing is lost); one raised
 * while reading a header or body is answered with a response code and the connection stays open.
 */
export class ProtocolError extends SyntaxError {
  override name = "ProtocolError";
}

/**
 * An operating error with the response code it is answered with, e.g. TOPIC_NOT_EXIST for a
 * route miss. Servers answer it with `code` and the message as remark; clients raise it for a
 * non-success response.
 */
export class ResponseError extends Error {
  override name = "ResponseError";
  /** The RocketMQ response code. */
  readonly code: number;

  constructor(code: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
