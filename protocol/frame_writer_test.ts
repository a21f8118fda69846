import assert from "node:assert/strict";
import { createRequest, createResponse, SerializeType } from "./command.ts";
import { decodeFrame, encodeFrame, FrameDecoder } from "./frame.ts";
import { FrameWriter, INLINE_BODY_BYTES_MAX } from "./frame_writer.ts";
import { frameBytesMax } from "./limits.ts";

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const request = createRequest(310, { a: "group", b: "topic", i: "UNIQ_KEY\u0001id\u0002TAGS\u0001t" }, {
  body: new Uint8Array([1, 2, 3]),
});

Deno.test("FrameWriter.append() writes the bytes encodeFrame() writes", () => {
  const writer = new FrameWriter();
  const response = createResponse({ ...request, opaque: 7 }, 0, { extFields: { msgId: "X", queueOffset: "1" } });
  const binary = { ...request, serializeType: SerializeType.ROCKETMQ };
  let total = 0;
  for (const command of [request, response, binary]) total += writer.append(command);
  assert.deepStrictEqual(writer.bytes, total);
  const out = concat(writer.take());
  assert.deepStrictEqual(out, concat([encodeFrame(request), encodeFrame(response), encodeFrame(binary)]));
  assert.deepStrictEqual(writer.bytes, 0);
});

Deno.test("FrameWriter.append() sends a large body as its own chunk, uncopied", () => {
  const writer = new FrameWriter();
  const body = new Uint8Array(INLINE_BODY_BYTES_MAX).fill(9);
  const big = createResponse(request, 0, { body });
  writer.append(request);
  writer.append(big);
  writer.append(request);
  const chunks = writer.take();
  assert.deepStrictEqual(chunks.length, 3);
  assert.deepStrictEqual(chunks[1], body);
  assert.deepStrictEqual(chunks[1].buffer, body.buffer);
  const decoded = new FrameDecoder().push(concat(chunks));
  assert.deepStrictEqual(decoded.map((c) => c.body?.length), [3, INLINE_BODY_BYTES_MAX, 3]);
});

Deno.test("FrameWriter.take() keeps the taken chunks intact while the next ones are queued", () => {
  const writer = new FrameWriter();
  writer.append({ ...request, opaque: 1 });
  const first = writer.take();
  const copy = concat(first).slice();
  for (let i = 0; i < 1000; i++) writer.append({ ...request, opaque: 2 + i }); // grows the other buffer
  assert.deepStrictEqual(concat(first), copy);
  assert.deepStrictEqual(decodeFrame(copy).opaque, 1);
  const second = new FrameDecoder().push(concat(writer.take()));
  assert.deepStrictEqual(second.length, 1000);
  assert.deepStrictEqual(second[999].opaque, 1001);
});

Deno.test("FrameWriter.append() throws RangeError over frameBytesMax and queues nothing", () => {
  const writer = new FrameWriter();
  writer.append(request);
  const before = writer.bytes;
  assert.throws(
    () => writer.append(createRequest(310, {}, { body: new Uint8Array(frameBytesMax) })),
    (error: unknown) => error instanceof RangeError && /limit is/.test(error.message),
  );
  assert.deepStrictEqual(writer.bytes, before);
  assert.deepStrictEqual(new FrameDecoder().push(concat(writer.take())).length, 1);
});

Deno.test("FrameDecoder with lendBodies gives views and says when the chunk is lent", () => {
  const decoder = new FrameDecoder({ lendBodies: true });
  const frame = encodeFrame(request);
  const [command] = decoder.push(frame);
  assert.deepStrictEqual(command.body, new Uint8Array([1, 2, 3]));
  assert.deepStrictEqual(command.body!.buffer, frame.buffer);
  assert.deepStrictEqual(decoder.chunkLent, true);
  decoder.push(encodeFrame(createRequest(34, {})));
  assert.deepStrictEqual(decoder.chunkLent, false);
  // A frame split across chunks is assembled in the decoder's buffer; its body views that buffer,
  // which the decoder then gives up, so the next frame cannot overwrite the body.
  const [a, b] = [frame.subarray(0, 10), frame.subarray(10)];
  assert.deepStrictEqual(decoder.push(a).length, 0);
  const [split] = decoder.push(b);
  assert.deepStrictEqual(decoder.chunkLent, false);
  const next = encodeFrame(createRequest(310, {}, { body: new Uint8Array([7, 7, 7]) }));
  decoder.push(next.subarray(0, 10));
  decoder.push(next.subarray(10));
  assert.deepStrictEqual(split.body, new Uint8Array([1, 2, 3]));
});

Deno.test("FrameWriter.release() drops the buffers only when nothing is queued", () => {
  const writer = new FrameWriter();
  writer.append(request);
  writer.release();
  assert.deepStrictEqual(writer.bytes > 0, true);
  const frames = new FrameDecoder().push(concat(writer.take()));
  assert.deepStrictEqual(frames.length, 1);
  writer.release();
  writer.append(request);
  assert.deepStrictEqual(new FrameDecoder().push(concat(writer.take())).length, 1);
});

Deno.test("FrameDecoder decodes the same frames whatever the chunking, lending bodies or not", () => {
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const commands = Array.from({ length: 60 }, (_, i) =>
    createRequest(310, { a: `g${i}`, i: "x".repeat(i * 7) }, {
      body: i % 3 === 0 ? undefined : new Uint8Array(i % 5 === 0 ? 70_000 : i * 13).fill(i),
    }));
  const stream = concat(commands.map(encodeFrame));
  for (const lendBodies of [false, true]) {
    for (let round = 0; round < 20; round++) {
      const decoder = new FrameDecoder({ lendBodies });
      const decoded = [];
      for (let pos = 0; pos < stream.length;) {
        const size = round === 0 ? 1 : 1 + Math.floor(random() * (round < 10 ? 3000 : 200_000));
        decoded.push(...decoder.push(stream.subarray(pos, pos + size)));
        pos += size;
      }
      assert.deepStrictEqual(decoder.bufferedBytes, 0);
      assert.deepStrictEqual(
        decoded.map((c) => [c.extFields.a, c.body?.length ?? 0, c.body?.[0]]),
        commands.map((c) => [
          c.extFields.a,
          c.body?.length ?? 0,
          c.body?.[0],
        ]),
      );
    }
  }
});

Deno.test("ROCKETMQ binary headers round-trip ASCII, non-ASCII and empty values as Java reads them", () => {
  const command = {
    ...createRequest(310, { a: "group", b: "tópico-ü", c: "", d: "日本語", e: "x".repeat(300), f: "\u0001\u0002" }, {
      serializeType: SerializeType.ROCKETMQ,
      remark: "répondu",
    }),
    opaque: -5,
    flag: 0x7fffffff,
  };
  const decoded = decodeFrame(encodeFrame(command));
  assert.deepStrictEqual(decoded.extFields, {
    a: "group",
    b: "tópico-ü",
    d: "日本語",
    e: "x".repeat(300),
    f: "\u0001\u0002",
  });
  assert.deepStrictEqual([decoded.opaque, decoded.flag, decoded.remark, decoded.code, decoded.version], [
    -5,
    0x7fffffff,
    "répondu",
    310,
    command.version,
  ]);
  // ASCII-only maps take the one-decode path; a non-ASCII key takes the per-string one.
  const ascii = decodeFrame(encodeFrame({ ...command, extFields: { k: "v", queueId: "3" } }));
  assert.deepStrictEqual(ascii.extFields, { k: "v", queueId: "3" });
  const keyed = decodeFrame(encodeFrame({ ...command, extFields: { "ключ": "v", k: "w" } }));
  assert.deepStrictEqual(keyed.extFields, { "ключ": "v", k: "w" });
});
