import assert from "node:assert/strict";
import { createRequest, createResponse, CURRENT_VERSION, RESPONSE_FLAG, SerializeType } from "./command.ts";
import { ProtocolError } from "./errors.ts";
import { decodeFrame, encodeFrame, FrameDecoder } from "./frame.ts";
import { frameBytesMax } from "./limits.ts";
import { RequestCode, requestCodeName } from "./request_code.ts";
import { ResponseCode, responseCodeName } from "./response_code.ts";

const hex = (s: string) => new Uint8Array(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const text = (s: string) => new TextEncoder().encode(s);

// Reference §1.7: a Java 4.9.8 client's GET_MAX_OFFSET request, JSON header.
const javaGetMaxOffsetJson = (() => {
  const header =
    '{"code":30,"extFields":{"bname":"broker-a","queueId":"0","topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":409}';
  const h = text(header);
  const out = new Uint8Array(8 + h.length);
  new DataView(out.buffer).setInt32(0, 4 + h.length);
  new DataView(out.buffer).setInt32(4, h.length);
  out.set(h, 8);
  return out;
})();

// Reference §1.7: the same request in the ROCKETMQ binary header.
const javaGetMaxOffsetBinary = hex(`
  00 00 00 4e 01 00 00 4a 00 1e 00 01 99 00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 35 00 05 74
  6f 70 69 63 00 00 00 09 54 6f 70 69 63 54 65 73 74 00 07 71 75 65 75 65 49 64 00 00 00 01 30 00
  05 62 6e 61 6d 65 00 00 00 08 62 72 6f 6b 65 72 2d 61`);

Deno.test("decodeFrame() reads the reference JSON GET_MAX_OFFSET request", () => {
  assert.equal(javaGetMaxOffsetJson.length, 0xa7 + 4);
  const command = decodeFrame(javaGetMaxOffsetJson);
  assert.equal(command.code, RequestCode.GET_MAX_OFFSET);
  assert.equal(command.opaque, 7);
  assert.equal(command.version, 409);
  assert.equal(command.language, "JAVA");
  assert.equal(command.serializeType, SerializeType.JSON);
  assert.deepEqual(command.extFields, { bname: "broker-a", queueId: "0", topic: "TopicTest" });
  assert.equal(command.body, undefined);
});

Deno.test("decodeFrame() reads the reference binary GET_MAX_OFFSET request", () => {
  const command = decodeFrame(javaGetMaxOffsetBinary);
  assert.equal(command.code, 30);
  assert.equal(command.opaque, 7);
  assert.equal(command.version, 409);
  assert.equal(command.flag, 0);
  assert.equal(command.serializeType, SerializeType.ROCKETMQ);
  assert.deepEqual(command.extFields, { topic: "TopicTest", queueId: "0", bname: "broker-a" });
});

const fixture = (name: string) => Deno.readFileSync(new URL(`../tests/fixtures/reference/${name}`, import.meta.url));

for (const name of ["broker_30", "broker_30_binary"]) {
  Deno.test(`encodeFrame() answers the captured ${name} request exactly as RocketMQ 4.9.7 did`, () => {
    const request = decodeFrame(fixture(`${name}.request.bin`));
    assert.equal(request.code, RequestCode.GET_MAX_OFFSET);
    assert.equal(request.extFields.topic, "FixtureTopic");
    const response = createResponse(request, ResponseCode.SUCCESS, { extFields: { offset: "1" } });
    assert.deepEqual(encodeFrame(response), fixture(`${name}.response.bin`));
  });
}

Deno.test("encodeFrame() writes the captured unknown-code reply byte for byte", () => {
  const request = decodeFrame(fixture("broker_9999.request.bin"));
  const response = createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, {
    remark: ` request type ${request.code} not supported`,
  });
  assert.deepEqual(encodeFrame(response), fixture("broker_9999.response.bin"));
});

Deno.test("JSON header: ali-ons number and boolean extFields decode as Java strings", () => {
  const header = text(
    '{"code":310,"language":"JAVA","opaque":3,"flag":0,"version":121,"extFields":{"e":0,"f":6,"k":false,"b":"T","n":null}}',
  );
  const frame = new Uint8Array(8 + header.length + 2);
  new DataView(frame.buffer).setInt32(0, 4 + header.length + 2);
  new DataView(frame.buffer).setInt32(4, header.length);
  frame.set(header, 8);
  frame.set([7, 9], 8 + header.length);
  const command = decodeFrame(frame);
  assert.deepEqual(command.extFields, { e: "0", f: "6", k: "false", b: "T" });
  assert.deepEqual(command.body, new Uint8Array([7, 9]));
  assert.equal(command.remark, undefined);
});

Deno.test("JSON header: a Go-style header with empty remark and no serializeTypeCurrentRPC decodes", () => {
  const header = text(
    '{"code":105,"language":"GO","version":317,"opaque":1,"flag":0,"remark":"","extFields":{"topic":"t"}}',
  );
  const frame = new Uint8Array(8 + header.length);
  new DataView(frame.buffer).setInt32(0, 4 + header.length);
  new DataView(frame.buffer).setInt32(4, header.length);
  frame.set(header, 8);
  const command = decodeFrame(frame);
  assert.equal(command.language, "GO");
  assert.equal(command.remark, "");
  assert.equal(command.extFields.topic, "t");
});

Deno.test("every request and response code round-trips in both serialize types", () => {
  for (const serializeType of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    for (const code of Object.values(RequestCode)) {
      const request = createRequest(code, { topic: "T", queueId: "3" }, {
        serializeType,
        body: new Uint8Array([1, 2, 3]),
      });
      request.opaque = code * 7;
      const back = decodeFrame(encodeFrame(request));
      assert.equal(back.code, code, requestCodeName(code));
      assert.equal(back.opaque, code * 7);
      assert.deepEqual(back.extFields, request.extFields);
      assert.deepEqual(back.body, request.body);
      assert.equal(back.serializeType, serializeType);
    }
    for (const code of Object.values(ResponseCode)) {
      const request = createRequest(RequestCode.HEART_BEAT, {}, { serializeType });
      request.opaque = 99;
      const response = createResponse(request, code, { remark: `remark ${responseCodeName(code)}` });
      const back = decodeFrame(encodeFrame(response));
      assert.equal(back.code, code);
      assert.equal(back.flag, RESPONSE_FLAG);
      assert.equal(back.remark, `remark ${responseCodeName(code)}`);
      assert.equal(back.opaque, 99);
      assert.equal(back.version, CURRENT_VERSION);
    }
  }
});

Deno.test("binary header drops empty values, as Java reads them back as null", () => {
  const request = createRequest(14, { a: "", b: "x" }, { serializeType: SerializeType.ROCKETMQ });
  assert.deepEqual(decodeFrame(encodeFrame(request)).extFields, { b: "x" });
});

Deno.test("FrameDecoder splits a stream chunked at every byte", () => {
  const frames = [
    javaGetMaxOffsetJson,
    javaGetMaxOffsetBinary,
    encodeFrame(createRequest(34, {}, { body: text("{}") })),
  ];
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let pos = 0;
  for (const f of frames) {
    stream.set(f, pos);
    pos += f.length;
  }
  for (const step of [1, 2, 3, 7, 64, stream.length]) {
    const decoder = new FrameDecoder();
    const codes: number[] = [];
    for (let i = 0; i < stream.length; i += step) {
      for (const c of decoder.push(stream.subarray(i, i + step))) codes.push(c.code);
    }
    assert.deepEqual(codes, [30, 30, 34], `step ${step}`);
    assert.equal(decoder.bufferedBytes, 0);
  }
});

Deno.test("FrameDecoder rejects an oversized length before buffering it", () => {
  const decoder = new FrameDecoder();
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setInt32(0, frameBytesMax); // + 4 for the prefix: one byte over
  assert.throws(() => decoder.push(prefix), ProtocolError);
  assert.equal(decoder.bufferedBytes, 0);
  assert.throws(() => decoder.push(new Uint8Array(4)), /out of sync/);
});

Deno.test("FrameDecoder accepts a frame of exactly frameBytesMax and frees its buffer afterwards", () => {
  const body = new Uint8Array(frameBytesMax - 8 - 64);
  const request = createRequest(10, {}, { body });
  const headerLength = encodeFrame(createRequest(10)).length - 8;
  request.body = new Uint8Array(frameBytesMax - 8 - headerLength);
  const frame = encodeFrame(request);
  assert.equal(frame.length, frameBytesMax);
  const decoder = new FrameDecoder();
  let decoded = 0;
  for (let i = 0; i < frame.length; i += 1 << 16) decoded += decoder.push(frame.subarray(i, i + (1 << 16))).length;
  assert.equal(decoded, 1);
  assert.equal(decoder.bufferedBytes, 0);
});

Deno.test("FrameDecoder rejects negative and too-small lengths, bad types and garbage headers", () => {
  const cases: [string, Uint8Array][] = [
    ["negative length", hex("ff ff ff ff 00 00 00 00")],
    ["length below 4", hex("00 00 00 02 00 00")],
    ["header longer than frame", hex("00 00 00 06 00 00 00 09 7b 7d")],
    ["unknown serialize type", hex("00 00 00 06 05 00 00 02 7b 7d")],
    ["garbage JSON", hex("00 00 00 07 00 00 00 03 7b 7b 7b")],
    ["JSON array header", hex("00 00 00 06 00 00 00 02 5b 5d")],
    ["JSON without code", hex("00 00 00 06 00 00 00 02 7b 7d")],
    ["binary header too short", hex("00 00 00 08 01 00 00 04 00 00 00 00")],
  ];
  for (const [name, bytes] of cases) {
    assert.throws(() => new FrameDecoder().push(bytes), ProtocolError, name);
  }
});

Deno.test("encodeFrame() refuses a frame over frameBytesMax", () => {
  assert.throws(() => encodeFrame(createRequest(10, {}, { body: new Uint8Array(frameBytesMax) })), RangeError);
});

Deno.test("JSON header rejects non-integer code and wrong-typed extFields", () => {
  for (const header of ['{"code":"x"}', '{"code":1.5}', '{"code":1,"extFields":[1]}', '{"code":1,"opaque":1e12}']) {
    const h = text(header);
    const frame = new Uint8Array(8 + h.length);
    new DataView(frame.buffer).setInt32(0, 4 + h.length);
    new DataView(frame.buffer).setInt32(4, h.length);
    frame.set(h, 8);
    assert.throws(() => decodeFrame(frame), ProtocolError, header);
  }
});

Deno.test("FrameDecoder survives random garbage with a ProtocolError or partial frame, never another error", () => {
  const seed = Number(Deno.env.get("DENOMQ_SEED") ?? Date.now() % 1e9);
  let state = seed;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  try {
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(1 + Math.floor(random() * 64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = random() * 256;
      // Half the inputs get a consistent length prefix, so header decoding is exercised too.
      if (bytes.length >= 8 && random() < 0.5) {
        const headerLength = Math.floor(random() * (bytes.length - 7));
        bytes.set([0, 0, 0, bytes.length - 4, random() < 0.5 ? 0 : 1, 0, 0, headerLength], 0);
      }
      try {
        new FrameDecoder().push(bytes);
      } catch (error) {
        assert.ok(error instanceof ProtocolError, String(error));
      }
    }
  } catch (error) {
    throw new Error(`failed with DENOMQ_SEED=${seed}`, { cause: error });
  }
});
