import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import {
  createOffsetMessageId,
  encodeMessageRecord,
  type MessageRecord,
  parseProperties,
} from "../protocol/message.ts";
import {
  bodyBytes,
  checkSendTopic,
  compressBody,
  decodePulledMessages,
  decompressBody,
  encodeMessageProperties,
  type Message,
  retryTopic,
} from "./message.ts";

const text = (s: string) => new TextEncoder().encode(s);

function record(overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    queueId: 2,
    flag: 5,
    queueOffset: 10,
    commitLogOffset: 4096,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: { ip: new Uint8Array([10, 0, 0, 1]), port: 5555 },
    storeTimestamp: 1_700_000_000_100,
    storeHost: { ip: new Uint8Array([127, 0, 0, 1]), port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: text("hello"),
    topic: "orders",
    properties:
      "TAGS\u0001paid\u0002KEYS\u0001k1 k2\u0002UNIQ_KEY\u0001ABCDEF0123456789ABCDEF0123456789\u0002color\u0001red",
    ...overrides,
  };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

Deno.test("decodePulledMessages() exposes tags, keys, ids, hosts and user properties", () => {
  const [message] = decodePulledMessages(encodeMessageRecord(record()), {
    brokerName: "broker-a",
    minOffset: 0,
    maxOffset: 11,
  });
  assert.equal(message.topic, "orders");
  assert.equal(message.text, "hello");
  assert.equal(message.tags, "paid");
  assert.deepEqual(message.keys, ["k1", "k2"]);
  assert.equal(message.msgId, "ABCDEF0123456789ABCDEF0123456789");
  assert.equal(message.offsetMsgId, createOffsetMessageId({ ip: new Uint8Array([127, 0, 0, 1]), port: 10911 }, 4096));
  assert.deepEqual(message.queue, { topic: "orders", brokerName: "broker-a", queueId: 2 });
  assert.equal(message.queueOffset, 10);
  assert.equal(message.bornHost, "10.0.0.1:5555");
  assert.equal(message.storeHost, "127.0.0.1:10911");
  assert.deepEqual(message.userProperties, { color: "red" });
  assert.equal(message.properties.MAX_OFFSET, "11");
  assert.equal(message.flag, 5);
});

Deno.test("decodePulledMessages() uses the offset id when a message has no UNIQ_KEY", () => {
  const [message] = decodePulledMessages(encodeMessageRecord(record({ properties: "" })), { brokerName: "b" });
  assert.equal(message.msgId, message.offsetMsgId);
  assert.deepEqual(message.keys, []);
});

Deno.test("decodePulledMessages() filters by exact tag", () => {
  const body = concat(
    encodeMessageRecord(record({ queueOffset: 1, properties: "TAGS\u0001a" })),
    encodeMessageRecord(record({ queueOffset: 2, properties: "TAGS\u0001b" })),
    encodeMessageRecord(record({ queueOffset: 3, properties: "" })),
  );
  const kept = decodePulledMessages(body, { brokerName: "b", tags: new Set(["b"]) });
  assert.deepEqual(kept.map((m) => m.queueOffset), [2]);
  assert.equal(decodePulledMessages(body, { brokerName: "b", tags: new Set() }).length, 3);
});

Deno.test("decodePulledMessages() restores the original topic of a retry message", () => {
  const body = encodeMessageRecord(record({
    topic: retryTopic("g"),
    reconsumeTimes: 2,
    properties: "RETRY_TOPIC\u0001orders\u0002TAGS\u0001paid",
  }));
  const [message] = decodePulledMessages(body, { brokerName: "b", group: "g" });
  assert.equal(message.topic, "orders");
  assert.equal(message.queue.topic, "%RETRY%g");
  assert.equal(message.reconsumeTimes, 2);
});

Deno.test("compressBody() zlib-compresses from the threshold and sets sysFlag 0x301", () => {
  const small = text("x".repeat(4095));
  assert.equal(compressBody(small, 4096, 5).sysFlag, 0);
  const big = text("x".repeat(4096));
  const { body, sysFlag } = compressBody(big, 4096, 5);
  assert.equal(sysFlag, 0x301);
  assert.ok(body.length < big.length);
  assert.deepEqual(new Uint8Array(inflateSync(body)), big);
  // Incompressible bodies are sent as they are.
  const random = crypto.getRandomValues(new Uint8Array(8192));
  assert.equal(compressBody(random, 4096, 5).sysFlag, 0);
});

Deno.test("decodePulledMessages() inflates zlib bodies of both compression flag styles", () => {
  const original = text("payload ".repeat(1000));
  const { body } = compressBody(original, 1, 5);
  for (const sysFlag of [0x1, 0x301]) {
    const [message] = decodePulledMessages(encodeMessageRecord(record({ body, sysFlag })), { brokerName: "b" });
    assert.deepEqual(message.body, original);
    assert.equal(message.bodyCompressed, false);
  }
  assert.equal(decompressBody(body, 0x101).compressed, true); // LZ4: left as is
});

Deno.test("encodeMessageProperties() writes tags, keys, delay, WAIT, user properties and UNIQ_KEY", () => {
  const message: Message = {
    topic: "t",
    body: "x",
    tags: "TagA",
    keys: ["k1", "k2"],
    delayLevel: 3,
    properties: { color: "red" },
  };
  const props = parseProperties(encodeMessageProperties(message, { uniqueKey: "ID" }));
  assert.deepEqual(Object.fromEntries(props), {
    TAGS: "TagA",
    KEYS: "k1 k2",
    DELAY: "3",
    WAIT: "true",
    color: "red",
    UNIQ_KEY: "ID",
  });
});

Deno.test("encodeMessageProperties() rejects reserved names, separators and bad delay levels", () => {
  assert.throws(() => encodeMessageProperties({ topic: "t", body: "x", properties: { UNIQ_KEY: "x" } }), TypeError);
  assert.throws(() => encodeMessageProperties({ topic: "t", body: "x", properties: { a: "b\u0001" } }), TypeError);
  assert.throws(() => encodeMessageProperties({ topic: "t", body: "x", tags: "a\u0002b" }), TypeError);
  assert.throws(() => encodeMessageProperties({ topic: "t", body: "x", delayLevel: 19 }), RangeError);
  assert.throws(() => encodeMessageProperties({ topic: "t", body: "x", delayLevel: 1.5 }), RangeError);
});

Deno.test("checkSendTopic() enforces RocketMQ's topic rules", () => {
  checkSendTopic("orders_v2-%|x");
  assert.throws(() => checkSendTopic(""), TypeError);
  assert.throws(() => checkSendTopic("a b"), TypeError);
  assert.throws(() => checkSendTopic("x".repeat(128)), TypeError);
  assert.throws(() => checkSendTopic("SCHEDULE_TOPIC_XXXX"), TypeError);
});

Deno.test("bodyBytes() encodes strings as UTF-8", () => {
  assert.deepEqual(bodyBytes("é"), new Uint8Array([0xc3, 0xa9]));
});
