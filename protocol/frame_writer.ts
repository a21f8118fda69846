/**
 * `FrameWriter`: frames queued for one connection, encoded straight into a reusable buffer, so a
 * response costs no typed-array allocation (measured here: one `new Uint8Array` costs about as
 * much as decoding a whole request header) and a burst of responses leaves in one write.
 *
 * A JSON header is written with `TextEncoder.encodeInto` behind its 8-byte prefix, a ROCKETMQ
 * binary header byte by byte; a small body is copied after it. A large body (≥ {@linkcode INLINE_BODY_BYTES_MAX}, e.g. a pull reply) is not
 * copied: the buffer's segment so far is sealed and the body follows as its own chunk.
 *
 * Two buffers alternate: {@linkcode FrameWriter.take} hands out the chunks of one and switches to
 * the other, which is reused only at the next `take()`, so the caller must have written the
 * previous chunks by then (one write in flight per connection).
 *
 * Pure: no I/O.
 *
 * @module
 */

import { type RemotingCommand, SerializeType } from "./command.ts";
import { binaryHeaderBytesMax, encodeBinaryHeaderInto, jsonHeaderText } from "./frame.ts";
import { frameBytesMax } from "./limits.ts";

/** Bodies up to this size are copied into the buffer; larger ones are written as they are. */
export const INLINE_BODY_BYTES_MAX = 16 * 1024;
/**
 * Starting size of each of the two buffers; they are allocated at the first frame, so an idle
 * connection holds none (and {@linkcode FrameWriter.release} gives them back).
 */
const BUFFER_BYTES_INITIAL = 8 * 1024;
/** A buffer grown past this is dropped once written, so one burst does not pin memory. */
const BUFFER_BYTES_RETAINED_MAX = 1024 * 1024;

const textEncoder = new TextEncoder();

const EMPTY = new Uint8Array(0);

class Buffer {
  bytes = EMPTY;
  length = 0;
  /** Start of the segment not yet sealed into `chunks`. */
  segmentStart = 0;
  chunks: Uint8Array[] = [];

  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    let size = Math.max(BUFFER_BYTES_INITIAL, this.bytes.length * 2);
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    // Sealed chunks keep viewing the old bytes; only the open segment moves.
    next.set(this.bytes.subarray(this.segmentStart, this.length), this.segmentStart);
    this.bytes = next;
  }

  reset(): void {
    this.length = 0;
    this.segmentStart = 0;
    this.chunks = [];
    if (this.bytes.length > BUFFER_BYTES_RETAINED_MAX) this.bytes = EMPTY;
  }
}

function setInt32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** Frames waiting to be written to one connection. */
export class FrameWriter {
  #current = new Buffer();
  #spare = new Buffer();
  /** Bytes queued and not yet taken. */
  bytes = 0;

  /**
   * Queues `command` as one frame.
   *
   * @returns the frame's size in bytes.
   * @throws {RangeError} when the frame would exceed `frameBytesMax` (nothing is queued).
   */
  append(command: RemotingCommand): number {
    const buffer = this.#current;
    const body = command.body;
    const bodyLength = body?.length ?? 0;
    const inline = bodyLength < INLINE_BODY_BYTES_MAX;
    const start = buffer.length;
    let headerLength: number;
    if (command.serializeType === SerializeType.ROCKETMQ) {
      buffer.reserve(8 + binaryHeaderBytesMax(command) + (inline ? bodyLength : 0));
      headerLength = encodeBinaryHeaderInto(command, buffer.bytes, start + 8);
    } else {
      const text = jsonHeaderText(command);
      // UTF-8 needs at most 3 bytes per UTF-16 unit.
      buffer.reserve(8 + text.length * 3 + (inline ? bodyLength : 0));
      headerLength = textEncoder.encodeInto(text, buffer.bytes.subarray(start + 8)).written;
    }
    const total = 8 + headerLength + bodyLength;
    if (total > frameBytesMax) {
      throw new RangeError(
        `Cannot encode command ${command.code}: frame is ${total} bytes, limit is ${frameBytesMax} bytes`,
      );
    }
    const bytes = buffer.bytes;
    setInt32(bytes, start, total - 4);
    setInt32(bytes, start + 4, (command.serializeType << 24) | headerLength);
    buffer.length = start + 8 + headerLength;
    if (bodyLength > 0) {
      if (inline) {
        bytes.set(body!, buffer.length);
        buffer.length += bodyLength;
      } else {
        buffer.chunks.push(bytes.subarray(buffer.segmentStart, buffer.length), body!);
        buffer.segmentStart = buffer.length;
      }
    }
    this.bytes += total;
    return total;
  }

  /**
   * Everything queued, as chunks to write in order; queuing continues in the other buffer. The
   * chunks stay valid until the next `take()`.
   */
  take(): Uint8Array[] {
    const buffer = this.#current;
    const chunks = buffer.chunks;
    if (buffer.length > buffer.segmentStart) chunks.push(buffer.bytes.subarray(buffer.segmentStart, buffer.length));
    this.#spare.reset();
    this.#current = this.#spare;
    this.#spare = buffer;
    this.bytes = 0;
    return chunks;
  }

  /** Drops everything queued (the connection is closing). */
  clear(): void {
    this.#current.reset();
    this.#spare.reset();
    this.bytes = 0;
  }

  /**
   * Gives both buffers back when nothing is queued and the last taken chunks are written (an idle
   * connection); they are allocated again at the next frame.
   */
  release(): void {
    if (this.bytes > 0) return;
    this.#current.reset();
    this.#spare.reset();
    this.#current.bytes = EMPTY;
    this.#spare.bytes = EMPTY;
  }
}
