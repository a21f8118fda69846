import assert from "node:assert/strict";
import {
  createOffsetMessageId,
  decodeMessageRecord,
  type MessageRecord,
  RECORD_OVERHEAD_BYTES,
  writeMessageRecord,
} from "../../protocol/message.ts";
import {
  BLANK_MAGIC_CODE,
  defaultKeys,
  defaultTagsCode,
  getU64,
  isValidTopic,
  offsetMessageId,
  parseDelayLevels,
  parseProperties,
  type PreparedRecord,
  RecordEncoder,
  type RecordFields,
  scanRecord,
  setU64,
  writeBlank,
  writeRecord,
} from "./_record.ts";
import { message, Rng, withSeed } from "./_test_util.ts";

function encodeWithStore(fields: RecordFields, queueOffset: number, commitLogOffset: number, storeTimestamp: number) {
  const prepared = new RecordEncoder(1 << 20).prepare(fields, false) as PreparedRecord;
  assert.ok(!("problem" in prepared));
  const out = new Uint8Array(prepared.size + 16);
  const size = writeRecord(
    out,
    new DataView(out.buffer),
    8,
    fields,
    prepared,
    queueOffset,
    commitLogOffset,
    storeTimestamp,
  );
  return out.subarray(8, 8 + size);
}

function randomFields(rng: Rng): RecordFields {
  const v6 = () => rng.next() < 0.3;
  const ip = (six: boolean) => rng.bytes(six ? 16 : 4);
  const chars = ["a", "b", "\u0001", "\u0002", "é", "漢", "😀", "Z", "9"];
  let properties = "";
  for (let i = rng.int(40); i > 0; i--) properties += chars[rng.int(chars.length)];
  return {
    ...message(),
    topic: ["T", "%RETRY%group", "SCHEDULE_TOPIC_XXXX", "a|b-c_d"][rng.int(4)],
    queueId: rng.int(1024),
    flag: (rng.int(2 ** 32)) | 0,
    sysFlag: rng.int(0x100) & ~0x30,
    bornTimestamp: rng.int(2 ** 45),
    bornHost: { ip: ip(v6()), port: rng.int(65536) },
    storeHost: { ip: ip(v6()), port: rng.int(65536) },
    reconsumeTimes: rng.int(20),
    preparedTransactionOffset: rng.next() < 0.5 ? 0 : rng.int(2 ** 50),
    body: rng.bytes(rng.int(3000)),
    properties,
  };
}

Deno.test("writeRecord() output is byte-identical to protocol writeMessageRecord", async () => {
  await withSeed("record encoder", (rng) => {
    for (let i = 0; i < 300; i++) {
      const fields = randomFields(rng);
      const queueOffset = rng.int(2 ** 40);
      const commitLogOffset = rng.int(2 ** 52);
      const storeTimestamp = rng.int(2 ** 45);
      const ours = encodeWithStore(fields, queueOffset, commitLogOffset, storeTimestamp);
      const record: MessageRecord = { ...fields, queueOffset, commitLogOffset, storeTimestamp };
      const theirs = new Uint8Array(ours.length);
      assert.equal(writeMessageRecord(theirs, 0, record), ours.length);
      assert.deepEqual(ours, theirs);
      const back = decodeMessageRecord(ours, 0, { verifyCrc: true });
      assert.equal(back.commitLogOffset, commitLogOffset);
      assert.equal(back.queueOffset, queueOffset);
      assert.equal(back.properties, fields.properties);
    }
  });
});

Deno.test("RecordEncoder.prepare() rejects oversized records, long properties and bad topics", () => {
  const encoder = new RecordEncoder(1000);
  const big = encoder.prepare(message({ body: new Uint8Array(1000) }), false);
  assert.ok("problem" in big && big.problem === "size");
  assert.match((big as { reason: string }).reason, /limit is 1000 bytes/);
  const props = new RecordEncoder(1 << 20).prepare(message({ properties: "é".repeat(20000) }), false);
  assert.ok("problem" in props && props.problem === "properties");
  assert.match((props as { reason: string }).reason, /40000 bytes, limit is 32767/);
  for (const topic of ["", "../etc", "a/b", "x".repeat(128), "sp ace"]) {
    const r = encoder.prepare(message({ topic }), false);
    assert.ok("problem" in r && r.problem === "topic", topic);
  }
  assert.ok(isValidTopic("%DLQ%group|x"));
  const badHost = encoder.prepare(message({ storeHost: { ip: new Uint8Array(5), port: 1 } }), false);
  assert.ok("problem" in badHost && badHost.problem === "field");
});

Deno.test("offsetMessageId() equals createOffsetMessageId for v4 and v6 hosts", async () => {
  await withSeed("offset message id", (rng) => {
    for (let i = 0; i < 200; i++) {
      const host = { ip: rng.bytes(rng.next() < 0.5 ? 4 : 16), port: rng.int(65536) };
      const offset = rng.int(2 ** 53);
      assert.equal(offsetMessageId(host, offset), createOffsetMessageId(host, offset));
      assert.equal(offsetMessageId({ ...host }, offset + 1), createOffsetMessageId(host, offset + 1));
    }
  });
});

Deno.test("setU64() and getU64() round-trip safe integers, negative ones included", () => {
  const view = new DataView(new ArrayBuffer(8));
  for (const v of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -(2 ** 32) - 5, -(2 ** 53) + 1, 1_700_000_000_000]) {
    setU64(view, 0, v);
    assert.equal(getU64(view, 0), v);
    assert.equal(view.getBigInt64(0), BigInt(v));
  }
});

Deno.test("scanRecord() reports corruption of every verified field", () => {
  const fields = message({ properties: "KEYS\u0001a b\u0002UNIQ_KEY\u0001U1" });
  const good = encodeWithStore(fields, 5, 4096, 1_700_000_000_123);
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ok = scanRecord(good, view(good), 0, 4096, true);
  assert.ok(typeof ok !== "string");
  assert.equal(ok.queueOffset, 5);
  assert.equal(ok.storeTimestamp, 1_700_000_000_123);
  assert.deepEqual(defaultKeys(parseProperties(ok.properties)), ["a", "b", "U1"]);
  assert.equal(typeof scanRecord(good, view(good), 0, 4097, true), "string", "PHYSICALOFFSET mismatch");
  const corrupt = (at: number, bit: number) => {
    const copy = good.slice();
    copy[at] ^= 1 << bit;
    return scanRecord(copy, view(copy), 0, 4096, true);
  };
  // TOTALSIZE, MAGIC, BODYCRC, PHYSICALOFFSET, SYSFLAG's high bits, the body. Properties and the
  // other header fields are not covered by the layout's body-only CRC.
  for (const at of [0, 3, 4, 8, 11, 28, 35, 36, RECORD_OVERHEAD_BYTES - 1]) {
    assert.equal(typeof corrupt(at, 0), "string", `flip at ${at}`);
  }
});

Deno.test("writeBlank() writes the remaining size and BLANK magic", () => {
  const view = new DataView(new ArrayBuffer(8));
  writeBlank(view, 0, 1234);
  assert.equal(view.getInt32(0), 1234);
  assert.equal(view.getInt32(4), BLANK_MAGIC_CODE);
});

Deno.test("defaultTagsCode() is the tags hash, or the delivery time for SCHEDULE_TOPIC_XXXX", () => {
  assert.equal(defaultTagsCode("T", new Map([["TAGS", "TagA"]]), 0), 2598919);
  assert.equal(defaultTagsCode("T", new Map(), 0), 0);
  assert.equal(defaultTagsCode("SCHEDULE_TOPIC_XXXX", new Map([["DELAY", "3"]]), 1000), 11_000);
  assert.deepEqual(parseDelayLevels("1s 5m 2h 1d"), [1000, 300_000, 7_200_000, 86_400_000]);
  assert.throws(() => parseDelayLevels("1x"), RangeError);
});
