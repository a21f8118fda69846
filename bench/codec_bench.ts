/**
 * `deno bench bench/codec_bench.ts`: the per-message codecs on the broker's and the client's hot
 * paths, on the frames a 1 KiB SEND_MESSAGE_V2 really carries (as our client and the Java client
 * write them) and the SEND reply the broker writes back.
 *
 * @module
 */

import { createResponse, type RemotingCommand, RESPONSE_FLAG, SerializeType } from "../protocol/command.ts";
import { decodeFrameContent, encodeFrameParts, FrameDecoder, jsonHeaderText } from "../protocol/frame.ts";
import { readHeader } from "../protocol/header.ts";
import { parseProperties } from "../protocol/message.ts";
import { SEND_SCHEMA } from "../broker/processors/send_message.ts";

const encoder = new TextEncoder();

/** A SEND_MESSAGE_V2 request as the denomq client writes it (1 KiB body). */
export const SEND_V2_REQUEST: RemotingCommand = {
  code: 310,
  language: "JAVA",
  version: 407,
  opaque: 123456,
  flag: 0,
  extFields: {
    a: "BenchProducerGroup",
    b: "Bench_produce_mk2abc12",
    c: "TBW102",
    d: "4",
    e: "3",
    f: "0",
    g: "1795677693163",
    h: "0",
    i: "UNIQ_KEY\u00017F0000013A2F18B4AAC27D9E1F2C0000\u0002WAIT\u0001true\u0002TAGS\u0001bench",
    j: "0",
    k: "false",
    m: "false",
  },
  body: new Uint8Array(1024).fill(97),
  serializeType: SerializeType.JSON,
};

/** The SEND reply the broker writes. */
export const SEND_RESPONSE: RemotingCommand = createResponse(SEND_V2_REQUEST, 0, {
  extFields: {
    queueId: "3",
    TRACE_ON: "true",
    MSG_REGION: "DefaultRegion",
    msgId: "7F00000100002A9F0000000000A1B2C3",
    queueOffset: "12345",
  },
});

function frameOf(command: RemotingCommand): Uint8Array {
  const parts = encodeFrameParts(command);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const requestFrame = frameOf(SEND_V2_REQUEST);
const responseFrame = frameOf(SEND_RESPONSE);
/** 64 requests back to back, as one socket read delivers them under load. */
const requestBurst = (() => {
  const out = new Uint8Array(requestFrame.length * 64);
  for (let i = 0; i < 64; i++) out.set(requestFrame, i * requestFrame.length);
  return out;
})();
const binaryRequestFrame = frameOf({ ...SEND_V2_REQUEST, serializeType: SerializeType.ROCKETMQ });

const longFields: Record<string, string> = {
  producerGroup: "BenchProducerGroup",
  topic: "Bench_produce_mk2abc12",
  defaultTopic: "TBW102",
  defaultTopicQueueNums: "4",
  queueId: "3",
  sysFlag: "0",
  bornTimestamp: "1795677693163",
  flag: "0",
  properties: SEND_V2_REQUEST.extFields.i,
  reconsumeTimes: "0",
  unitMode: "false",
  batch: "false",
};

Deno.bench("decode SEND_MESSAGE_V2 request (JSON header)", { group: "decode", baseline: true }, () => {
  decodeFrameContent(requestFrame.subarray(4));
});

Deno.bench("decode SEND_MESSAGE_V2 request (ROCKETMQ binary header)", { group: "decode" }, () => {
  decodeFrameContent(binaryRequestFrame.subarray(4));
});

Deno.bench("decode SEND reply (JSON header)", { group: "decode" }, () => {
  decodeFrameContent(responseFrame.subarray(4));
});

Deno.bench("FrameDecoder.push: 64 requests in one chunk (per request)", { group: "decode", n: 64 }, () => {
  new FrameDecoder().push(requestBurst);
});

Deno.bench("encode SEND reply: encodeFrameParts", { group: "encode", baseline: true }, () => {
  encodeFrameParts(SEND_RESPONSE);
});

const scratch = new Uint8Array(64 * 1024);
Deno.bench("encode SEND reply: jsonHeaderText + encodeInto", { group: "encode" }, () => {
  encoder.encodeInto(jsonHeaderText(SEND_RESPONSE), scratch.subarray(8));
});

Deno.bench("encode SEND_MESSAGE_V2 request: jsonHeaderText + encodeInto", { group: "encode" }, () => {
  encoder.encodeInto(jsonHeaderText(SEND_V2_REQUEST), scratch.subarray(8));
});

Deno.bench("readHeader: SEND_MESSAGE schema", { group: "header" }, () => {
  readHeader("SEND_MESSAGE header", SEND_SCHEMA, longFields);
});

Deno.bench("parseProperties: UNIQ_KEY, WAIT, TAGS", { group: "header" }, () => {
  parseProperties(SEND_V2_REQUEST.extFields.i);
});

void RESPONSE_FLAG;
