/**
 * Frame codec: RemotingCommand <-> bytes, and a streaming decoder for TCP input.
 *
 * Frame layout (big-endian):
 *
 * ```text
 * +------------+------------------------------+--------------+------------+
 * | length (4) | serializeType (1) | hlen (3) | header bytes | body bytes |
 * +------------+------------------------------+--------------+------------+
 * length = 4 + hlen + bodyLength   (the prefix does not count itself)
 * ```
 *
 * JSON header (serialize type 0): an object with `code, extFields, flag, language, opaque,
 * remark, serializeTypeCurrentRPC, version`, written in fastjson's alphabetical order.
 *
 * ROCKETMQ header (serialize type 1), 21 fixed bytes then variable parts:
 *
 * ```text
 * code i16 | language u8 | version i16 | opaque i32 | flag i32 | remarkLen i32 | remark
 * | extLen i32 | { keyLen i16 | key | valueLen i32 | value }*
 * ```
 *
 * Pure: no I/O. Every length read from input is checked against `limits.ts` before use.
 *
 * @module
 */

import {
  type ExtFields,
  LANGUAGE_NAMES,
  type RemotingCommand,
  SerializeType,
  type SerializeTypeValue,
} from "./command.ts";
import { ProtocolError } from "./errors.ts";
import { extFieldsCountMax, frameBytesMax, headerBytesMax } from "./limits.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Size of the fixed part of a ROCKETMQ binary header. */
export const BINARY_HEADER_FIXED_BYTES = 21;

/** Encodes a command's header in its own serialize type. */
export function encodeCommandHeader(command: RemotingCommand): Uint8Array {
  return command.serializeType === SerializeType.ROCKETMQ ? encodeBinaryHeader(command) : encodeJsonHeader(command);
}

/** The JSON header, fields in fastjson's (alphabetical) order, null fields omitted. */
export function encodeJsonHeader(command: RemotingCommand): Uint8Array {
  return encoder.encode(jsonHeaderText(command));
}

/**
 * The JSON header as text, for writers that encode it straight into their own buffer
 * (`TextEncoder.encodeInto`) instead of allocating bytes per frame.
 */
export function jsonHeaderText(command: RemotingCommand): string {
  let hasExt = false;
  for (const _ in command.extFields) {
    hasExt = true;
    break;
  }
  const header = {
    code: command.code,
    extFields: hasExt ? command.extFields : undefined,
    flag: command.flag,
    language: command.language,
    opaque: command.opaque,
    remark: command.remark,
    serializeTypeCurrentRPC: "JSON",
    version: command.version,
  };
  return JSON.stringify(header);
}

/**
 * Most bytes the ROCKETMQ binary header of `command` can take (UTF-8 is at most 3 bytes per
 * UTF-16 unit), for callers that encode it into their own buffer with
 * {@linkcode encodeBinaryHeaderInto}.
 */
export function binaryHeaderBytesMax(command: RemotingCommand): number {
  let bytes = BINARY_HEADER_FIXED_BYTES + (command.remark?.length ?? 0) * 3;
  const ext = command.extFields;
  for (const key in ext) {
    const value = ext[key];
    if (value !== undefined && value !== null) bytes += 6 + key.length * 3 + String(value).length * 3;
  }
  return bytes;
}

function putInt32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = value >>> 16;
  out[at + 2] = value >>> 8;
  out[at + 3] = value;
}

/**
 * Writes `text` as UTF-8 at `at`: byte by byte while it is ASCII (header keys and values nearly
 * always are; a per-string `encodeInto` would cost a call and a view each), `encodeInto` for the
 * rest. Returns the bytes written; `out` must have room for 3 bytes per UTF-16 unit.
 */
function putUtf8(out: Uint8Array, at: number, text: string): number {
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7F) return i + encoder.encodeInto(text.slice(i), out.subarray(at + i)).written;
    out[at + i] = c;
  }
  return length;
}

/**
 * Writes the ROCKETMQ binary header of `command` at `at` of `out`, which must have
 * {@linkcode binaryHeaderBytesMax} bytes of room there. Returns the header's length.
 */
export function encodeBinaryHeaderInto(command: RemotingCommand, out: Uint8Array, at: number): number {
  const code = command.code;
  out[at] = code >>> 8;
  out[at + 1] = code;
  const languageIndex = LANGUAGE_NAMES.indexOf(command.language as (typeof LANGUAGE_NAMES)[number]);
  out[at + 2] = languageIndex < 0 ? 0 : languageIndex;
  out[at + 3] = command.version >>> 8;
  out[at + 4] = command.version;
  putInt32(out, at + 5, command.opaque);
  putInt32(out, at + 9, command.flag);
  let pos = at + 17;
  const remarkLength = command.remark ? putUtf8(out, pos, command.remark) : 0;
  putInt32(out, at + 13, remarkLength);
  pos += remarkLength;
  const extStart = pos + 4;
  pos = extStart;
  const ext = command.extFields;
  for (const key in ext) {
    const raw = ext[key];
    // Java skips null keys and values; an empty string would decode back as null anyway.
    if (raw === undefined || raw === null) continue;
    const keyLength = putUtf8(out, pos + 2, key);
    out[pos] = keyLength >>> 8;
    out[pos + 1] = keyLength;
    pos += 2 + keyLength;
    const valueLength = putUtf8(out, pos + 4, typeof raw === "string" ? raw : String(raw));
    putInt32(out, pos, valueLength);
    pos += 4 + valueLength;
  }
  putInt32(out, extStart - 4, pos - extStart);
  return pos - at;
}

/** The ROCKETMQ binary header. */
export function encodeBinaryHeader(command: RemotingCommand): Uint8Array {
  const out = new Uint8Array(binaryHeaderBytesMax(command));
  return out.slice(0, encodeBinaryHeaderInto(command, out, 0));
}

/**
 * Encodes a command as frame parts: the prefix with the header, then the body if any. Writers
 * that gather chunks send the parts without copying a large body.
 *
 * @throws {RangeError} when the frame would exceed `frameBytesMax`.
 */
export function encodeFrameParts(command: RemotingCommand): Uint8Array[] {
  const header = encodeCommandHeader(command);
  const bodyLength = command.body?.length ?? 0;
  const total = 8 + header.length + bodyLength;
  if (total > frameBytesMax) {
    throw new RangeError(
      `Cannot encode command ${command.code}: frame is ${total} bytes, limit is ${frameBytesMax} bytes`,
    );
  }
  const head = new Uint8Array(8 + header.length);
  const view = new DataView(head.buffer);
  view.setInt32(0, total - 4);
  view.setInt32(4, (command.serializeType << 24) | header.length);
  head.set(header, 8);
  return bodyLength > 0 ? [head, command.body!] : [head];
}

/** Encodes a command as one frame. */
export function encodeFrame(command: RemotingCommand): Uint8Array {
  const parts = encodeFrameParts(command);
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts[0].length + parts[1].length);
  out.set(parts[0], 0);
  out.set(parts[1], parts[0].length);
  return out;
}

/** Options for {@linkcode decodeFrameContent}. */
export interface DecodeFrameOptions {
  /**
   * Return the body as a view of `content` instead of a copy. Only for callers that never reuse
   * the bytes (a typed-array allocation per frame costs more than decoding its header).
   */
  bodyView?: boolean;
}

/**
 * Decodes one frame's content (everything after the length prefix).
 *
 * @throws {ProtocolError} when the header is malformed.
 */
export function decodeFrameContent(content: Uint8Array, options?: DecodeFrameOptions): RemotingCommand {
  if (content.length < 4) {
    throw new ProtocolError(`Cannot decode frame: ${content.length} bytes is shorter than the 4-byte header length`);
  }
  const serializeType = content[0];
  const headerLength = (content[1] << 16) | (content[2] << 8) | content[3];
  if (headerLength > content.length - 4) {
    throw new ProtocolError(
      `Cannot decode frame: header length ${headerLength} exceeds the ${content.length - 4} bytes after it`,
    );
  }
  if (headerLength > headerBytesMax) {
    throw new ProtocolError(`Cannot decode frame: header is ${headerLength} bytes, limit is ${headerBytesMax} bytes`);
  }
  const headerBytes = content.subarray(4, 4 + headerLength);
  let command: RemotingCommand;
  if (serializeType === SerializeType.JSON) command = decodeJsonHeader(headerBytes);
  else if (serializeType === SerializeType.ROCKETMQ) command = decodeBinaryHeader(headerBytes);
  else throw new ProtocolError(`Cannot decode frame: unknown serialize type ${serializeType}`);
  const bodyLength = content.length - 4 - headerLength;
  if (bodyLength > 0) {
    // A copy unless asked otherwise: a decoder's buffer is usually reused for the next frames.
    command.body = options?.bodyView ? content.subarray(4 + headerLength) : content.slice(4 + headerLength);
  }
  return command;
}

/** Decodes one complete frame, length prefix included. */
export function decodeFrame(frame: Uint8Array): RemotingCommand {
  if (frame.length < 4) throw new ProtocolError(`Cannot decode frame: ${frame.length} bytes is too short`);
  const length = new DataView(frame.buffer, frame.byteOffset, 4).getInt32(0);
  if (length !== frame.length - 4) {
    throw new ProtocolError(`Cannot decode frame: length prefix says ${length}, frame holds ${frame.length - 4}`);
  }
  return decodeFrameContent(frame.subarray(4));
}

function int32Field(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    throw new ProtocolError(
      `Cannot decode JSON header: "${name}" must be a 32-bit integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Converts a JSON extFields value to the string a Java server would see: fastjson turns numbers
 * and booleans into their text when it fills a `HashMap<String, String>` (ali-ons sends
 * `"queueId":0` and `"unitMode":false`).
 */
function extFieldString(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "object":
      return value === null ? undefined : JSON.stringify(value);
    default:
      return undefined;
  }
}

/** Decodes a JSON header into a command (without body). */
export function decodeJsonHeader(bytes: Uint8Array): RemotingCommand {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new ProtocolError(`Cannot decode JSON header: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ProtocolError("Cannot decode JSON header: not a JSON object");
  }
  const h = parsed as Record<string, unknown>;
  if (h.code === undefined) throw new ProtocolError('Cannot decode JSON header: "code" is missing');
  const rawExt = h.extFields;
  let extFields: ExtFields;
  if (rawExt === undefined || rawExt === null) {
    extFields = {};
  } else {
    if (typeof rawExt !== "object" || Array.isArray(rawExt)) {
      throw new ProtocolError('Cannot decode JSON header: "extFields" must be an object');
    }
    // The parsed object is fresh and ours: values are checked and converted in place, without
    // copying it (the common header holds only strings).
    const ext = rawExt as Record<string, unknown>;
    let count = 0;
    for (const key in ext) {
      if (++count > extFieldsCountMax) {
        throw new ProtocolError(`Cannot decode JSON header: more than ${extFieldsCountMax} extFields`);
      }
      const value = ext[key];
      if (typeof value === "string") continue;
      const text = extFieldString(value);
      if (text === undefined) delete ext[key];
      else ext[key] = text;
    }
    extFields = ext as ExtFields;
  }
  const remark = h.remark;
  return {
    code: int32Field(h.code, "code", 0),
    language: typeof h.language === "string" ? h.language : "JAVA",
    version: int32Field(h.version, "version", 0),
    opaque: int32Field(h.opaque, "opaque", 0),
    flag: int32Field(h.flag, "flag", 0),
    remark: typeof remark === "string" ? remark : remark == null ? undefined : String(remark),
    extFields,
    serializeType: SerializeType.JSON,
  };
}

/** Decodes a ROCKETMQ binary header into a command (without body). */
export function decodeBinaryHeader(bytes: Uint8Array): RemotingCommand {
  if (bytes.length < BINARY_HEADER_FIXED_BYTES) {
    throw new ProtocolError(
      `Cannot decode binary header: ${bytes.length} bytes, the fixed part alone is ${BINARY_HEADER_FIXED_BYTES}`,
    );
  }
  const b = bytes;
  const code = ((b[0] << 8) | b[1]) << 16 >> 16;
  const languageCode = b[2];
  const version = ((b[3] << 8) | b[4]) << 16 >> 16;
  const opaque = getInt32(b, 5);
  const flag = getInt32(b, 9);
  let pos = 13;
  const remarkLength = getInt32(b, pos);
  pos += 4;
  if (remarkLength < 0 || remarkLength > b.length - pos - 4) {
    throw new ProtocolError(`Cannot decode binary header: remark length ${remarkLength} exceeds the header`);
  }
  const remark = remarkLength > 0 ? decoder.decode(b.subarray(pos, pos + remarkLength)) : undefined;
  pos += remarkLength;
  const extLength = getInt32(b, pos);
  pos += 4;
  if (extLength < 0 || extLength > b.length - pos) {
    throw new ProtocolError(`Cannot decode binary header: extFields length ${extLength} exceeds the map`);
  }
  const extStart = pos;
  const extEnd = pos + extLength;
  // ASCII (the usual case): the map is decoded with one call and keys and values are slices of
  // it, byte positions being character positions. Otherwise each string is decoded on its own.
  let ascii = true;
  for (let i = extStart; i < extEnd; i++) {
    if (b[i] > 0x7F) {
      ascii = false;
      break;
    }
  }
  const text = ascii && extLength > 0 ? decoder.decode(b.subarray(extStart, extEnd)) : "";
  const extFields: ExtFields = {};
  let count = 0;
  while (pos < extEnd) {
    if (++count > extFieldsCountMax) {
      throw new ProtocolError(`Cannot decode binary header: more than ${extFieldsCountMax} extFields`);
    }
    if (extEnd - pos < 2) throw new ProtocolError("Cannot decode binary header: truncated extFields key length");
    const keyLength = ((b[pos] << 8) | b[pos + 1]) << 16 >> 16;
    pos += 2;
    if (keyLength < 0 || keyLength > extEnd - pos - 4) {
      throw new ProtocolError(`Cannot decode binary header: extFields key length ${keyLength} exceeds the map`);
    }
    const key = ascii
      ? text.slice(pos - extStart, pos - extStart + keyLength)
      : decoder.decode(b.subarray(pos, pos + keyLength));
    pos += keyLength;
    const valueLength = getInt32(b, pos);
    pos += 4;
    if (valueLength < 0 || valueLength > extEnd - pos) {
      throw new ProtocolError(`Cannot decode binary header: extFields value length ${valueLength} exceeds the map`);
    }
    const value = ascii
      ? text.slice(pos - extStart, pos - extStart + valueLength)
      : decoder.decode(b.subarray(pos, pos + valueLength));
    pos += valueLength;
    // Java reads a zero-length string back as null and drops the entry.
    if (keyLength > 0 && valueLength > 0) extFields[key] = value;
  }
  return {
    code,
    language: LANGUAGE_NAMES[languageCode] ?? "OTHER",
    version,
    opaque,
    flag,
    remark,
    extFields,
    serializeType: SerializeType.ROCKETMQ as SerializeTypeValue,
  };
}

function getInt32(b: Uint8Array, at: number): number {
  return (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
}

/**
 * A decoder's starting buffer: small, since every connection has one (it grows by doubling to
 * fit the frames it sees).
 */
const initialBufferBytes = 4 * 1024;

/** Options for {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest frame accepted, prefix included. Defaults to `frameBytesMax`. */
  frameBytesMax?: number;
  /**
   * Give bodies as views of the bytes they arrived in instead of copies. The caller must then
   * not reuse a chunk after {@linkcode FrameDecoder.push} when {@linkcode FrameDecoder.chunkLent}
   * says a body views it (the decoder never reuses its own buffer once lent). Saves a typed-array
   * allocation per frame; a view keeps its whole chunk alive, so callers size chunks to their reads.
   */
  lendBodies?: boolean;
}

const BODY_VIEW: DecodeFrameOptions = { bodyView: true };

/**
 * Splits a byte stream into commands, whatever the chunking.
 *
 * Memory is bounded: at most one partial frame (≤ `frameBytesMax`) plus the chunk being pushed is
 * held. A length prefix outside `[4, frameBytesMax - 4]` throws a {@linkcode ProtocolError}
 * before anything of that frame is buffered, and the decoder is then unusable: framing is lost
 * and the caller must close the connection.
 */
export class FrameDecoder {
  /** Bytes of an unfinished frame; allocated only while one is pending. */
  #buffer: Uint8Array | undefined;
  #start = 0;
  #end = 0;
  #frameBytesMax: number;
  #failed = false;
  #decodeOptions: DecodeFrameOptions | undefined;
  #chunkLent = false;

  constructor(options: FrameDecoderOptions = {}) {
    this.#frameBytesMax = options.frameBytesMax ?? frameBytesMax;
    this.#decodeOptions = options.lendBodies ? BODY_VIEW : undefined;
  }

  /** Bytes held, waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /** With `lendBodies`: whether a body returned by the last `push()` views the chunk given to it. */
  get chunkLent(): boolean {
    return this.#chunkLent;
  }

  /**
   * Adds a chunk and returns every command it completes. Complete frames are decoded straight
   * from the chunk; only the tail of an unfinished frame is copied and kept.
   *
   * @throws {ProtocolError} when framing is lost or a header cannot be decoded.
   */
  push(chunk: Uint8Array): RemotingCommand[] {
    if (this.#failed) throw new ProtocolError("Cannot decode after a framing error: the stream is out of sync");
    const commands: RemotingCommand[] = [];
    this.#chunkLent = false;
    try {
      let pos = 0;
      if (this.#start !== this.#end) {
        // Only the pending frame is assembled in the buffer: the rest of the chunk is decoded in place.
        pos = this.#completePending(chunk, commands);
        if (this.#start !== this.#end) return commands;
      }
      const end = chunk.length;
      const decodeOptions = this.#decodeOptions;
      let lent = false;
      let pendingFrameBytes = 0;
      while (end - pos >= 4) {
        const length = this.#frameLength(chunk, pos);
        if (end - pos < 4 + length) {
          pendingFrameBytes = 4 + length;
          break;
        }
        const command = decodeFrameContent(chunk.subarray(pos + 4, pos + 4 + length), decodeOptions);
        if (decodeOptions && command.body) lent = true;
        commands.push(command);
        pos += 4 + length;
      }
      this.#chunkLent = lent;
      if (pos < end) this.#keep(chunk.subarray(pos, end), pendingFrameBytes);
      return commands;
    } catch (error) {
      this.#failed = true;
      this.#start = this.#end = 0;
      this.#buffer = undefined;
      throw error;
    }
  }

  /** The length prefix at `pos`, checked against the frame bounds. */
  #frameLength(data: Uint8Array, pos: number): number {
    const length = ((data[pos] << 24) | (data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3]) | 0;
    if (length < 4 || length > this.#frameBytesMax - 4) {
      throw new ProtocolError(`Cannot decode frame: length ${length} is outside [4, ${this.#frameBytesMax - 4}]`);
    }
    return length;
  }

  /**
   * Appends to the pending frame what of `chunk` it still lacks and decodes it once complete.
   * Returns the bytes of `chunk` used; the frame is still pending when `#start !== #end` after.
   */
  #completePending(chunk: Uint8Array, commands: RemotingCommand[]): number {
    let used = 0;
    let held = this.#end - this.#start;
    if (held < 4) {
      used = Math.min(4 - held, chunk.length);
      this.#append(chunk.subarray(0, used));
      held += used;
      if (held < 4) return used;
    }
    const frameBytes = 4 + this.#frameLength(this.#buffer!, this.#start);
    this.#reserve(frameBytes);
    const take = Math.min(frameBytes - held, chunk.length - used);
    this.#append(chunk.subarray(used, used + take));
    used += take;
    if (this.#end - this.#start < frameBytes) return used;
    const buffer = this.#buffer!;
    const command = decodeFrameContent(buffer.subarray(this.#start + 4, this.#start + frameBytes), this.#decodeOptions);
    commands.push(command);
    // Nothing pending now. A body may view the buffer (lendBodies): it is the body's from now on;
    // otherwise it is dropped too, so an idle connection holds no decode buffer.
    this.#buffer = undefined;
    this.#start = this.#end = 0;
    return used;
  }

  /** Keeps the unfinished tail of a chunk, with room for the whole frame when its size is known. */
  #keep(tail: Uint8Array, frameBytes: number): void {
    let size = initialBufferBytes;
    while (size < Math.max(tail.length, frameBytes)) size *= 2;
    this.#buffer = new Uint8Array(size);
    this.#buffer.set(tail, 0);
    this.#start = 0;
    this.#end = tail.length;
  }

  #append(chunk: Uint8Array): void {
    const buffer = this.#buffer!;
    if (buffer.length - this.#end < chunk.length) {
      this.#compact(this.#end - this.#start + chunk.length);
    }
    this.#buffer!.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Makes sure a frame of `frameBytes` fits, so its remaining chunks append without copies. */
  #reserve(frameBytes: number): void {
    if (this.#buffer!.length - this.#start < frameBytes) this.#compact(frameBytes);
  }

  #compact(needed: number): void {
    const buffer = this.#buffer!;
    const held = this.#end - this.#start;
    if (buffer.length >= needed && this.#start > 0) {
      buffer.copyWithin(0, this.#start, this.#end);
    } else {
      let size = buffer.length;
      while (size < needed) size *= 2;
      const next = new Uint8Array(size);
      next.set(buffer.subarray(this.#start, this.#end), 0);
      this.#buffer = next;
    }
    this.#start = 0;
    this.#end = held;
  }
}
