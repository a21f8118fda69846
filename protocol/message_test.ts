import assert from "node:assert/strict";
import { crc32, crc32Masked } from "./crc32.ts";
import { ProtocolError } from "./errors.ts";
import { decodeFrame } from "./frame.ts";
import {
  type BatchEntry,
  bytesToHex,
  createOffsetMessageId,
  decodeBatchBody,
  decodeMessageRecord,
  decodeMessageRecords,
  decodeOffsetMessageId,
  encodeBatchBody,
  encodeMessageRecord,
  encodeProperties,
  formatSocketAddress,
  javaStringHashCode,
  type MessageRecord,
  MessageSysFlag,
  parseIp,
  parseProperties,
  parsePropertiesObject,
  parseSocketAddress,
  RECORD_OVERHEAD_BYTES,
  storeTimestampPosition,
  tagsHashCode,
  UniqueIdGenerator,
  uniqueIdTimestamp,
} from "./message.ts";

const fixture = (name: string) => Deno.readFileSync(new URL(`../tests/fixtures/reference/${name}`, import.meta.url));
const text = (s: string) => new TextEncoder().encode(s);

function sampleRecord(overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    queueId: 3,
    flag: 77,
    queueOffset: 2 ** 40 + 5,
    commitLogOffset: 2 ** 45 + 9,
    sysFlag: MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZLIB,
    bornTimestamp: 1_795_673_328_574,
    bornHost: { ip: new Uint8Array([10, 1, 2, 3]), port: 50123 },
    storeTimestamp: 1_795_673_328_580,
    storeHost: { ip: new Uint8Array([127, 0, 0, 1]), port: 10911 },
    reconsumeTimes: 4,
    preparedTransactionOffset: 123456789,
    body: text("héllo body"),
    topic: "Topic-ü_1",
    properties: encodeProperties({ KEYS: "k1 k2", TAGS: "TagA", UNIQ_KEY: "ABC" }),
    ...overrides,
  };
}

Deno.test("the captured RocketMQ 4.9.7 pull body decodes field by field and re-encodes byte for byte", () => {
  const response = decodeFrame(fixture("broker_11.response.bin"));
  const body = response.body!;
  const [record] = decodeMessageRecords(body, { verifyCrc: true });
  assert.equal(record.queueId, 0);
  assert.equal(record.queueOffset, 0);
  assert.equal(record.commitLogOffset, 0);
  assert.equal(record.sysFlag, 0);
  assert.equal(record.bornTimestamp, 1795673328574);
  assert.equal(formatSocketAddress(record.bornHost), "127.0.0.1:36038");
  assert.equal(record.storeTimestamp, 1795673328580);
  assert.equal(formatSocketAddress(record.storeHost), "127.0.0.1:30911");
  assert.equal(new TextDecoder().decode(record.body), "hello fixture");
  assert.equal(record.topic, "FixtureTopic");
  assert.equal(record.bodyCrc, 407176987);
  assert.deepEqual(
    Object.fromEntries(parseProperties(record.properties)),
    { KEYS: "k1 k2", UNIQ_KEY: "7F0000010D051B6D35860A1C2B3D0000", CLUSTER: "DefaultCluster", TAGS: "TagA" },
  );
  assert.deepEqual(encodeMessageRecord(record), body);
  // The client-side msgId of that message, and VIEW_MESSAGE_BY_ID's offset, come from the store host + offset.
  assert.equal(createOffsetMessageId(record.storeHost, record.commitLogOffset), "7F000001000078BF0000000000000000");
  // VIEW_MESSAGE_BY_ID answered with the very same bytes.
  assert.deepEqual(decodeFrame(fixture("broker_33.response.bin")).body, body);
});

Deno.test("message record round-trips every field, IPv4 and IPv6 hosts", () => {
  const v6 = parseIp("2001:db8::1");
  for (const [born, store] of [[undefined, undefined], [v6, undefined], [undefined, v6], [v6, v6]]) {
    const record = sampleRecord({
      bornHost: born ? { ip: born, port: 1 } : undefined,
      storeHost: store ? { ip: store, port: 2 } : undefined,
    } as Partial<MessageRecord>);
    for (const key of Object.keys(record) as (keyof MessageRecord)[]) {
      if (record[key] === undefined) delete record[key];
    }
    const full = { ...sampleRecord(), ...record };
    const bytes = encodeMessageRecord(full);
    const decoded = decodeMessageRecord(bytes, 0, { verifyCrc: true });
    assert.equal(decoded.size, bytes.length);
    const expectedFlag = full.sysFlag | (born ? MessageSysFlag.BORNHOST_V6 : 0) |
      (store ? MessageSysFlag.STOREHOST_V6 : 0);
    assert.equal(decoded.sysFlag, expectedFlag);
    for (
      const field of [
        "queueId",
        "flag",
        "queueOffset",
        "commitLogOffset",
        "bornTimestamp",
        "storeTimestamp",
        "reconsumeTimes",
        "preparedTransactionOffset",
        "topic",
        "properties",
      ] as const
    ) {
      assert.equal(decoded[field], full[field], field);
    }
    assert.deepEqual(decoded.body, full.body);
    assert.deepEqual(decoded.bornHost, full.bornHost);
    assert.deepEqual(decoded.storeHost, full.storeHost);
    assert.equal(decoded.bodyCrc, crc32Masked(full.body));
    const storeTsAt = storeTimestampPosition(decoded.sysFlag);
    assert.equal(Number(new DataView(bytes.buffer).getBigInt64(storeTsAt)), full.storeTimestamp);
  }
});

Deno.test("record layout sizes: 91 bytes of overhead with IPv4 hosts, 24 more with two IPv6 hosts", () => {
  const empty = sampleRecord({ body: new Uint8Array(), topic: "", properties: "" });
  assert.equal(encodeMessageRecord(empty).length, RECORD_OVERHEAD_BYTES);
  const v6 = { ip: parseIp("::1"), port: 1 };
  assert.equal(encodeMessageRecord({ ...empty, bornHost: v6, storeHost: v6 }).length, RECORD_OVERHEAD_BYTES + 24);
});

Deno.test("decodeMessageRecord() rejects corrupt records with ProtocolError", () => {
  const good = encodeMessageRecord(sampleRecord());
  const flip = (at: number, value: number) => {
    const copy = good.slice();
    copy[at] = value;
    return copy;
  };
  assert.throws(() => decodeMessageRecord(flip(4, 0)), /magic/);
  assert.throws(() => decodeMessageRecord(flip(0, 0x7f)), /size/);
  assert.throws(() => decodeMessageRecord(good.subarray(0, 50)), ProtocolError);
  assert.throws(() => decodeMessageRecord(good.subarray(0, good.length - 1)), /size/);
  const bodyAt = good.length - 2 - sampleRecord().properties.length - 1 - text(sampleRecord().topic).length - 1;
  assert.throws(() => decodeMessageRecord(flip(bodyAt, good[bodyAt] ^ 1), 0, { verifyCrc: true }), /CRC/);
  // Without verification, the same record decodes: CRC checks cost and are the caller's choice.
  decodeMessageRecord(flip(bodyAt, good[bodyAt] ^ 1));
});

Deno.test("parseProperties() follows Java's rules for malformed pieces", () => {
  assert.deepEqual(Object.fromEntries(parseProperties("a\u0001b\u0002c\u0001d\u0002")), { a: "b", c: "d" });
  assert.deepEqual(Object.fromEntries(parseProperties("\u0001ab\u0002x\u0001\u0002ok\u0001v\u0002z")), { ok: "v" });
  assert.deepEqual(Object.fromEntries(parseProperties("")), {});
  assert.equal(encodeProperties({ A: "1", B: undefined, C: "3" }), "A\u00011\u0002C\u00013");
  assert.equal(encodeProperties(new Map([["K", "v"]])), "K\u0001v");
});

Deno.test("tags hash is Java String.hashCode over UTF-16 units", () => {
  assert.equal(tagsHashCode("TagA"), 2598919);
  assert.equal(tagsHashCode(undefined), 0);
  assert.equal(tagsHashCode(""), 0);
  assert.equal(javaStringHashCode("polygenelubricants"), -2147483648);
  assert.equal(javaStringHashCode("😀"), 31 * 0xd83d + 0xde00); // a surrogate pair hashes as two code units
});

Deno.test("offset message id encodes store host, port and commit-log offset", () => {
  const id = createOffsetMessageId(parseSocketAddress("192.168.1.10:10911"), 2 ** 40 + 1);
  assert.equal(id, "C0A8010A00002A9F0000010000000001");
  const back = decodeOffsetMessageId(id);
  assert.equal(formatSocketAddress(back.storeHost), "192.168.1.10:10911");
  assert.equal(back.commitLogOffset, 2 ** 40 + 1);
  const v6 = createOffsetMessageId(parseSocketAddress("[::1]:10911"), 5);
  assert.equal(v6.length, 56);
  assert.equal(decodeOffsetMessageId(v6).commitLogOffset, 5);
  assert.throws(() => decodeOffsetMessageId("XYZ"), ProtocolError);
  assert.throws(() => decodeOffsetMessageId("Z".repeat(32)), ProtocolError);
});

Deno.test("parseSocketAddress() handles IPv4, bracketed IPv6 and embedded IPv4", () => {
  assert.deepEqual([...parseSocketAddress("[::ffff:1.2.3.4]:9").ip.subarray(10)], [255, 255, 1, 2, 3, 4]);
  assert.equal(formatSocketAddress(parseSocketAddress("[fe80::1:2]:80")), "[fe80:0:0:0:0:0:1:2]:80");
  for (const bad of ["nohost", "1.2.3.4", "1.2.3.256:1", "host:99999", "[::g]:1", "1::2::3:1"]) {
    assert.throws(() => parseSocketAddress(bad), ProtocolError, bad);
  }
});

Deno.test("batch body round-trips and rejects inconsistent entries", () => {
  const entries: BatchEntry[] = [
    { flag: 1, body: text("one"), properties: "UNIQ_KEY\u0001A" },
    { flag: 2, body: new Uint8Array(), properties: "" },
    { flag: 3, body: text("three"), properties: "KEYS\u0001x y" },
  ];
  const bytes = encodeBatchBody(entries);
  assert.deepEqual(decodeBatchBody(bytes), entries);
  const bad = bytes.slice();
  new DataView(bad.buffer).setInt32(16, 1000); // body length past the entry
  assert.throws(() => decodeBatchBody(bad), ProtocolError);
  assert.throws(() => decodeBatchBody(bytes.subarray(0, bytes.length - 1)), ProtocolError);
  assert.throws(() => decodeBatchBody(bytes, 2), /more than 2/);
});

Deno.test("UniqueIdGenerator ids follow Java's layout and carry their time", () => {
  let now = Date.UTC(2026, 10, 26, 6, 0, 0);
  const gen = new UniqueIdGenerator({
    ip: new Uint8Array([127, 0, 0, 1]),
    pid: 0x1234,
    instanceHash: 0x0a0b0c0d,
    now: () => now,
  });
  const a = gen.next();
  const b = gen.next();
  assert.equal(a.length, 32);
  assert.equal(a.slice(0, 20), "7F00000112340A0B0C0D");
  assert.equal(a.slice(28), "0000");
  assert.equal(b.slice(28), "0001");
  assert.equal(uniqueIdTimestamp(a, now), now);
  now += 1000;
  assert.equal(uniqueIdTimestamp(gen.next(), now), now);
  assert.equal(uniqueIdTimestamp("nothex", now), undefined);
  // The captured 4.9.7 Java-format id decodes without error.
  assert.ok(typeof uniqueIdTimestamp("7F0000010D051B6D35860A1C2B3D0000") === "number");
});

Deno.test("crc32 matches known vectors", () => {
  assert.equal(crc32(text("123456789")), 0xCBF43926);
  assert.equal(crc32(new Uint8Array()), 0);
  assert.equal(crc32Masked(text("hello fixture")), 407176987);
  assert.equal(bytesToHex(new Uint8Array([0, 255, 16])), "00FF10");
});

Deno.test("UniqueIdGenerator ids across a month boundary and a counter wrap keep Java's byte layout", () => {
  let now = new Date(2026, 0, 31, 23, 59, 59, 990).getTime();
  const gen = new UniqueIdGenerator({
    ip: new Uint8Array(16).fill(0xfe),
    pid: 70000,
    instanceHash: -123456789,
    now: () => now,
  });
  let previousCounter = -1;
  for (let i = 0; i < 70000; i++) {
    now += i % 1000 === 0 ? 7 : 0;
    const id = gen.next();
    assert.equal(id.length, 56);
    assert.equal(id.slice(0, 44), "FE".repeat(16) + "1170" + "F8A432EB", "ip, pid's low 16 bits, instance hash");
    const counter = parseInt(id.slice(52), 16);
    assert.equal(counter, (previousCounter + 1) & 0xffff);
    previousCounter = counter;
    assert.equal(uniqueIdTimestamp(id, now), now);
  }
});

Deno.test("parsePropertiesObject() reads what parseProperties() reads, into a plain object", () => {
  for (
    const text of [
      "",
      "A\u0001b",
      "UNIQ_KEY\u0001x\u0002TAGS\u0001t\u0002",
      "a\u0001\u0002\u0001b\u0002k\u0001v\u0002k\u0001w",
    ]
  ) {
    assert.deepStrictEqual(parsePropertiesObject(text), Object.fromEntries(parseProperties(text)));
  }
  const proto = parsePropertiesObject("__proto__\u0001x");
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(proto, "__proto__")?.value, "x");
});

Deno.test("decodeMessageRecord() reads 64-bit fields past 2^53 as Number(BigInt) does", () => {
  const record = {
    topic: "t",
    queueId: 1,
    flag: 0,
    queueOffset: 2 ** 60 + 2 ** 9,
    commitLogOffset: 7,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: { ip: new Uint8Array([127, 0, 0, 1]), port: 1 },
    storeTimestamp: 2,
    storeHost: { ip: new Uint8Array([127, 0, 0, 1]), port: 2 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: new Uint8Array([1]),
    properties: "",
  };
  const bytes = encodeMessageRecord(record);
  const decoded = decodeMessageRecord(bytes);
  assert.equal(decoded.queueOffset, Number(BigInt(2 ** 60 + 2 ** 9)));
  assert.deepStrictEqual(decoded.bornHost.ip, new Uint8Array([127, 0, 0, 1]));
});
