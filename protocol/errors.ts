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
