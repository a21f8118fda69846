import assert from "node:assert/strict";
import { MemoryFs } from "./_fs.ts";
import {
  CHECKPOINT_BYTES,
  type CheckpointState,
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpoint,
  writeCheckpoint,
} from "./checkpoint.ts";

const state: CheckpointState = {
  physicMsgTimestamp: 1_700_000_000_001,
  logicsMsgTimestamp: 1_700_000_000_002,
  indexMsgTimestamp: 1_700_000_000_003,
  commitLogSyncedOffset: 2 ** 40 + 5,
  dispatchedOffset: 2 ** 40,
  indexFileName: "20260101120000123",
  indexCount: 4242,
  clean: true,
};

Deno.test("encodeCheckpoint() keeps RocketMQ's fields at 0, 8, 16 and round-trips", () => {
  const page = encodeCheckpoint(state);
  assert.equal(page.length, CHECKPOINT_BYTES);
  const view = new DataView(page.buffer);
  assert.equal(Number(view.getBigInt64(0)), state.physicMsgTimestamp);
  assert.equal(Number(view.getBigInt64(8)), state.logicsMsgTimestamp);
  assert.equal(Number(view.getBigInt64(16)), state.indexMsgTimestamp);
  assert.deepEqual(decodeCheckpoint(page), state);
});

Deno.test("decodeCheckpoint() rejects a page with a flipped bit or a foreign layout", () => {
  for (const at of [0, 70, 80, 100, 116, 120]) {
    const page = encodeCheckpoint(state);
    page[at] ^= 4;
    assert.equal(decodeCheckpoint(page), undefined, `flip at ${at}`);
  }
  assert.equal(decodeCheckpoint(new Uint8Array(10)), undefined);
  assert.equal(decodeCheckpoint(new Uint8Array(CHECKPOINT_BYTES)), undefined);
});

Deno.test("writeCheckpoint() replaces the file atomically and readCheckpoint() reads it back", () => {
  const fs = new MemoryFs();
  fs.mkdir("/s");
  assert.equal(readCheckpoint(fs, "/s"), undefined);
  writeCheckpoint(fs, "/s", state);
  writeCheckpoint(fs, "/s", { ...state, dispatchedOffset: 7, clean: false });
  assert.deepEqual(readCheckpoint(fs, "/s"), { ...state, dispatchedOffset: 7, clean: false });
  assert.equal(fs.exists("/s/checkpoint.tmp"), false);
});
