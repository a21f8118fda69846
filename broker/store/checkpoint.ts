/**
 * The checkpoint file: how far the commit log, consume queues and index are known durable.
 *
 * ```text
 *  off  size  field
 *    0     8  physicMsgTimestamp    store time of the last synced record     (RocketMQ §12.5)
 *    8     8  logicsMsgTimestamp    same, for the consume queues              (RocketMQ)
 *   16     8  indexMsgTimestamp     same, for the index                       (RocketMQ)
 *   24     8  masterFlushedOffset   = commitLogSyncedOffset                   (RocketMQ 5.x)
 *   32     8  confirmPhyOffset      = dispatchedOffset                        (RocketMQ 5.x)
 *   64     4  "DMQC" magic
 *   68     4  version (1)
 *   72     8  commitLogSyncedOffset covered by fdatasync
 *   80     8  dispatchedOffset      consume queues and index durable for every record below it
 *   88    24  index file name       ASCII, zero-padded
 *  112     4  indexCount            entries of that file durable
 *  116     4  clean                 1 when written by a clean shutdown
 *  120     4  CRC-32 of bytes 0..119
 * ```
 *
 * One 4 KiB page, replaced atomically: written to `checkpoint.tmp`, fsynced, renamed over
 * `checkpoint`, directory fsynced. A checkpoint that is missing or fails its CRC is ignored, and
 * recovery rebuilds consume queues and index from the start of the commit log.
 *
 * @module
 */

import { crc32 as nativeCrc32 } from "node:zlib";
import { getLogger } from "@logtape/logtape";
import { assertOffset } from "./_assert.ts";
import type { StoreFs } from "./_fs.ts";
import { getU64, setU64 } from "./_record.ts";

const logger = getLogger(["denomq", "store"]);

export const CHECKPOINT_BYTES = 4096;
const CHECKPOINT_MAGIC = 0x444D5143; // "DMQC"
const CHECKPOINT_VERSION = 1;
const CRC_POSITION = 120;

/** What a checkpoint records. */
export interface CheckpointState {
  physicMsgTimestamp: number;
  logicsMsgTimestamp: number;
  indexMsgTimestamp: number;
  commitLogSyncedOffset: number;
  dispatchedOffset: number;
  indexFileName: string;
  indexCount: number;
  clean: boolean;
}

/** Encodes a checkpoint page. */
export function encodeCheckpoint(state: CheckpointState): Uint8Array {
  assertOffset(state.commitLogSyncedOffset, "checkpoint synced offset");
  assertOffset(state.dispatchedOffset, "checkpoint dispatched offset");
  const page = new Uint8Array(CHECKPOINT_BYTES);
  const view = new DataView(page.buffer);
  setU64(view, 0, state.physicMsgTimestamp);
  setU64(view, 8, state.logicsMsgTimestamp);
  setU64(view, 16, state.indexMsgTimestamp);
  setU64(view, 24, state.commitLogSyncedOffset);
  setU64(view, 32, state.dispatchedOffset);
  view.setUint32(64, CHECKPOINT_MAGIC);
  view.setUint32(68, CHECKPOINT_VERSION);
  setU64(view, 72, state.commitLogSyncedOffset);
  setU64(view, 80, state.dispatchedOffset);
  const name = new TextEncoder().encode(state.indexFileName.slice(0, 24));
  page.set(name, 88);
  view.setInt32(112, state.indexCount);
  view.setInt32(116, state.clean ? 1 : 0);
  view.setUint32(CRC_POSITION, nativeCrc32(page.subarray(0, CRC_POSITION)));
  return page;
}

/** Decodes a checkpoint page; undefined (with the reason logged) when it is not a valid one. */
export function decodeCheckpoint(page: Uint8Array): CheckpointState | undefined {
  if (page.length < CRC_POSITION + 4) {
    logger.warn("Ignoring checkpoint: {length} bytes, need {need}", { length: page.length, need: CRC_POSITION + 4 });
    return undefined;
  }
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  if (view.getUint32(64) !== CHECKPOINT_MAGIC || view.getUint32(68) !== CHECKPOINT_VERSION) {
    logger.warn("Ignoring checkpoint: not a denomq version {version} checkpoint", { version: CHECKPOINT_VERSION });
    return undefined;
  }
  const crc = nativeCrc32(page.subarray(0, CRC_POSITION));
  if (crc !== view.getUint32(CRC_POSITION)) {
    logger.warn("Ignoring checkpoint: CRC {crc} differs from the stored {stored}", {
      crc,
      stored: view.getUint32(CRC_POSITION),
    });
    return undefined;
  }
  const nameBytes = page.subarray(88, 112);
  const nameEnd = nameBytes.indexOf(0);
  return {
    physicMsgTimestamp: getU64(view, 0),
    logicsMsgTimestamp: getU64(view, 8),
    indexMsgTimestamp: getU64(view, 16),
    commitLogSyncedOffset: getU64(view, 72),
    dispatchedOffset: getU64(view, 80),
    indexFileName: new TextDecoder().decode(nameEnd < 0 ? nameBytes : nameBytes.subarray(0, nameEnd)),
    indexCount: view.getInt32(112),
    clean: view.getInt32(116) === 1,
  };
}

/** Reads `<root>/checkpoint`; undefined when missing or invalid. */
export function readCheckpoint(fs: StoreFs, rootDir: string): CheckpointState | undefined {
  const path = `${rootDir}/checkpoint`;
  if (!fs.exists(path)) return undefined;
  const file = fs.open(path);
  try {
    const page = new Uint8Array(CHECKPOINT_BYTES);
    const n = file.readAt(page, 0);
    return decodeCheckpoint(page.subarray(0, n));
  } finally {
    file.close();
  }
}

/** Replaces `<root>/checkpoint` atomically. Throws on I/O errors (the caller logs and retries later). */
export function writeCheckpoint(fs: StoreFs, rootDir: string, state: CheckpointState): void {
  const tmp = `${rootDir}/checkpoint.tmp`;
  const file = fs.open(tmp, { create: true });
  try {
    const page = encodeCheckpoint(state);
    let done = 0;
    while (done < page.length) {
      const n = file.writeAt(page.subarray(done), done);
      if (n <= 0) throw new Error(`Cannot write checkpoint "${tmp}": write made no progress`);
      done += n;
    }
    file.sync();
  } finally {
    file.close();
  }
  fs.rename(tmp, `${rootDir}/checkpoint`);
  fs.syncDir(rootDir);
}
