/**
 * Protocol-level bounds, in one place so their relationships can be asserted.
 *
 * @module
 */

import { assert } from "./assert.ts";

/**
 * Largest frame accepted, counting the 4-byte length prefix. Java's decoder rejects frames over
 * 16 MiB (`com.rocketmq.remoting.frameMaxLength`), so no real client sends more; a larger length
 * means framing is lost and the connection is closed before any byte of it is buffered.
 */
export const frameBytesMax = 16 * 1024 * 1024;

/**
 * Largest header. The biggest legitimate header carries a message's properties string
 * (at most 32767 bytes) plus a few short fields; 1 MiB leaves ample room while keeping a hostile
 * header from costing a 16 MiB JSON parse.
 */
export const headerBytesMax = 1024 * 1024;

/** Size of the length prefix and of the serialize-type/header-length word. */
export const frameOverheadBytes = 8;

/** Largest body a frame can carry. */
export const bodyBytesMax = frameBytesMax - frameOverheadBytes;

/**
 * Entries allowed in a binary (ROCKETMQ) header's extFields map. Real headers hold fewer than 20;
 * the cap stops a tiny frame from declaring millions of empty entries.
 */
export const extFieldsCountMax = 1024;

/**
 * Largest properties string of a message (the stored layout gives it a signed 16-bit length).
 */
export const propertiesBytesMax = 32767;

/** Longest topic name: the stored layout gives it a signed 8-bit length. */
export const topicBytesMax = 127;

assert(headerBytesMax < bodyBytesMax, "headerBytesMax must leave room for a body");
assert(propertiesBytesMax < headerBytesMax, "a header must be able to carry a full properties string");
