/**
 * `RemotingCommand`: the envelope of every request and response (RocketMQ `RemotingCommand.java`).
 *
 * A command is plain data; encoding and decoding live in `frame.ts`.
 *
 * @module
 */

/** How a command's header is serialized: the top byte of the frame's second word. */
export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;

/** A serialize type number. */
export type SerializeTypeValue = (typeof SerializeType)[keyof typeof SerializeType];

/** Bit 0 of `flag`: the command is a response. */
export const RESPONSE_FLAG = 1;
/** Bit 1 of `flag`: the request expects no response. */
export const ONEWAY_FLAG = 2;

/**
 * MQVersion ordinal we put on every command we send: 407 is V4_9_7, what the reference 4.9.7
 * broker and nameserver stamp on every reply. Java clients record the broker version from
 * heartbeat replies and gate features on it (SQL92 needs at least 232).
 */
export const CURRENT_VERSION = 407;

/** Language codes by number (`LanguageCode.java`); JSON headers carry the name. */
export const LANGUAGE_NAMES = [
  "JAVA",
  "CPP",
  "DOTNET",
  "PYTHON",
  "DELPHI",
  "ERLANG",
  "RUBY",
  "OTHER",
  "HTTP",
  "GO",
  "PHP",
  "OMS",
  "RUST",
  "NODE_JS",
] as const;

/** The language we announce. Java reports JAVA for its own commands; we are a 4.x-style peer. */
export const OUR_LANGUAGE = "JAVA";

/** Header fields of a request or response ("extFields"), always string-valued once decoded. */
export type ExtFields = Record<string, string>;

/** One remoting command: a request, a response, or a oneway request. */
export interface RemotingCommand {
  /** Request code, or response code when {@linkcode RESPONSE_FLAG} is set. */
  code: number;
  /** Sender's language name, e.g. `"JAVA"`. */
  language: string;
  /** Sender's MQVersion ordinal. */
  version: number;
  /** Correlation id: a response echoes its request's opaque. */
  opaque: number;
  /** {@linkcode RESPONSE_FLAG} and {@linkcode ONEWAY_FLAG} bits. */
  flag: number;
  /** Human-readable text, mostly for errors. */
  remark?: string;
  /** Custom header fields. */
  extFields: ExtFields;
  /** Payload, absent when the frame has no body bytes. */
  body?: Uint8Array;
  /** Header serialization the command arrived in, or will be sent in. */
  serializeType: SerializeTypeValue;
}

/** Whether `command` is a response. */
export function isResponse(command: RemotingCommand): boolean {
  return (command.flag & RESPONSE_FLAG) !== 0;
}

/** Whether `command` is a oneway request (no response expected). */
export function isOneway(command: RemotingCommand): boolean {
  return (command.flag & ONEWAY_FLAG) !== 0;
}

/** Options for {@linkcode createRequest}. */
export interface CreateRequestOptions {
  body?: Uint8Array;
  oneway?: boolean;
  serializeType?: SerializeTypeValue;
  remark?: string;
}

/** A new request; its opaque is set by whoever sends it. */
export function createRequest(
  code: number,
  extFields: ExtFields = {},
  options: CreateRequestOptions = {},
): RemotingCommand {
  return {
    code,
    language: OUR_LANGUAGE,
    version: CURRENT_VERSION,
    opaque: 0,
    flag: options.oneway ? ONEWAY_FLAG : 0,
    remark: options.remark,
    extFields,
    body: options.body,
    serializeType: options.serializeType ?? SerializeType.JSON,
  };
}

/** Options for {@linkcode createResponse}. */
export interface CreateResponseOptions {
  remark?: string;
  extFields?: ExtFields;
  body?: Uint8Array;
}

/**
 * A response to `request`: same opaque, response flag set, and the request's serialize type
 * (a 4.9.x server answers in the type the request used).
 */
export function createResponse(
  request: RemotingCommand,
  code: number,
  options: CreateResponseOptions = {},
): RemotingCommand {
  return {
    code,
    language: OUR_LANGUAGE,
    version: CURRENT_VERSION,
    opaque: request.opaque,
    flag: RESPONSE_FLAG,
    remark: options.remark,
    extFields: options.extFields ?? {},
    body: options.body,
    serializeType: request.serializeType,
  };
}
