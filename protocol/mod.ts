/**
 * denomq's protocol package: RocketMQ 4.x remoting frames, commands, codes, fastjson bodies and
 * the message record codec.
 *
 * Pure: nothing here opens a socket or a file, or touches the `Deno` namespace, so the client can
 * use it under Node and the store can use the message codec without the network.
 *
 * @module
 */

export * from "./assert.ts";
export * from "./command.ts";
export * from "./crc32.ts";
export * from "./errors.ts";
export * from "./fastjson.ts";
export * from "./frame.ts";
export * from "./limits.ts";
export * from "./message.ts";
export * from "./request_code.ts";
export * from "./response_code.ts";
export * from "./header.ts";
export * from "./bodies.ts";
export * from "./acl_signature.ts";
