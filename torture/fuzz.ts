/**
 * Frame fuzzer: random, truncated, oversized, wrong-length, bad-JSON-header, wrong-typed
 * extFields and unknown-code frames against a live NameServer and broker, mixed with valid
 * traffic, while a canary client keeps producing and consuming.
 *
 * Pass conditions: both servers stay up; every fuzz frame is answered (the right code where the
 * frame is well-formed) or its connection is closed by the server — never a hang; the canary
 * never fails; server memory stays bounded.
 *
 * @module
 */

import { RemotingClient } from "../client/remoting_client.ts";
import { encodeJsonBody, registerBrokerBodyJson } from "../protocol/bodies.ts";
import { createRequest, type RemotingCommand, SerializeType } from "../protocol/command.ts";
import { FrameDecoder } from "../protocol/frame.ts";
import { frameBytesMax } from "../protocol/limits.ts";
import { encodeBatchBody } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { createTopic, pull, sendV2 } from "../tests/_wire.ts";
import { Random } from "./_random.ts";

const encoder = new TextEncoder();

/** What a fuzz frame must get back. */
type Expect = "response" | "code3" | "close" | "any";

interface FuzzFrame {
  kind: string;
  bytes: Uint8Array;
  expect: Expect;
  /** The opaque to match a response, when the frame is well-formed. */
  opaque?: number;
  /** Send only a prefix and close: the server must simply cope. */
  truncate?: boolean;
}

/** Codes a fuzzer may send: nothing that deletes, reconfigures or unregisters. */
const SAFE_CODES = [
  RequestCode.SEND_MESSAGE,
  RequestCode.SEND_MESSAGE_V2,
  RequestCode.SEND_BATCH_MESSAGE,
  RequestCode.PULL_MESSAGE,
  RequestCode.QUERY_MESSAGE,
  RequestCode.QUERY_CONSUMER_OFFSET,
  RequestCode.UPDATE_CONSUMER_OFFSET,
  RequestCode.GET_MAX_OFFSET,
  RequestCode.GET_MIN_OFFSET,
  RequestCode.GET_EARLIEST_MSG_STORETIME,
  RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
  RequestCode.VIEW_MESSAGE_BY_ID,
  RequestCode.HEART_BEAT,
  RequestCode.UNREGISTER_CLIENT,
  RequestCode.CONSUMER_SEND_MSG_BACK,
  RequestCode.GET_CONSUMER_LIST_BY_GROUP,
  RequestCode.LOCK_BATCH_MQ,
  RequestCode.UNLOCK_BATCH_MQ,
  RequestCode.CHECK_CLIENT_CONFIG,
  RequestCode.GET_ROUTEINFO_BY_TOPIC,
  RequestCode.GET_BROKER_CLUSTER_INFO,
  RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
  RequestCode.GET_KV_CONFIG,
  RequestCode.QUERY_DATA_VERSION,
  RequestCode.REGISTER_BROKER,
  RequestCode.GET_ALL_TOPIC_CONFIG,
];

const FIELD_NAMES = [
  "topic",
  "queueId",
  "queueOffset",
  "maxMsgNums",
  "sysFlag",
  "commitOffset",
  "suspendTimeoutMillis",
  "subscription",
  "subVersion",
  "consumerGroup",
  "group",
  "offset",
  "delayLevel",
  "key",
  "maxNum",
  "beginTimestamp",
  "endTimestamp",
  "timestamp",
  "a",
  "b",
  "c",
  "d",
  "e",
  "f",
  "g",
  "h",
  "i",
  "j",
  "k",
  "l",
  "m",
  "clientID",
  "brokerName",
  "brokerAddr",
  "clusterName",
  "haServerAddr",
  "brokerId",
  "bodyCrc32",
  "compressed",
  "namespace",
  "producerGroup",
];

function randomValue(r: Random): unknown {
  switch (r.int(0, 11)) {
    case 0:
      return r.int(-5, 40);
    case 1:
      return r.pick(["FuzzTopic", "TBW102", "%RETRY%FuzzGroup", "", " ", "a b", "x".repeat(r.int(100, 300))]);
    case 2:
      return String(r.int(-(2 ** 31), 2 ** 31));
    case 3:
      return "9".repeat(r.int(1, 40));
    case 4:
      return r.next() < 0.5;
    case 5:
      return null;
    case 6:
      return { nested: r.int(0, 9) };
    case 7:
      return [1, 2, 3];
    case 8:
      return -1.5e300;
    case 9:
      return "\u0001\u0002\u0000";
    case 10:
      return "FuzzGroup";
    default:
      return r.int(0, 2 ** 40);
  }
}

function frameOf(header: Record<string, unknown>, body?: Uint8Array, serializeType = 0): Uint8Array {
  const h = encoder.encode(JSON.stringify(header));
  const b = body ?? new Uint8Array();
  const out = new Uint8Array(8 + h.length + b.length);
  const view = new DataView(out.buffer);
  view.setInt32(0, 4 + h.length + b.length);
  view.setInt32(4, (serializeType << 24) | h.length);
  out.set(h, 8);
  out.set(b, 8 + h.length);
  return out;
}

function randomBody(r: Random): Uint8Array | undefined {
  switch (r.int(0, 7)) {
    case 0:
      return undefined;
    case 1:
      return r.bytes(r.int(1, 300));
    case 2:
      return encoder.encode(
        JSON.stringify({
          clientID: "fuzz@1",
          consumerDataSet: [{
            groupName: r.pick(["FuzzGroup", "", 5]),
            subscriptionDataSet: r.pick([[], [{ topic: "FuzzTopic" }], [{}], "x"]),
          }],
        }),
      );
    case 3:
      return encoder.encode("{".repeat(r.int(1, 200)));
    case 4:
      return encodeBatchBody([{ flag: 0, body: r.bytes(r.int(0, 64)), properties: "" }]).map((
        b,
        i,
      ) => (i === r.int(0, 30) ? r.int(0, 255) : b));
    case 5:
      return encodeJsonBody(registerBrokerBodyJson({
        topicConfigWrapper: { dataVersion: { counter: r.int(0, 9), timestamp: 1 }, topicConfigTable: new Map() },
        filterServerList: [],
      }));
    case 6:
      return encoder.encode(
        JSON.stringify({ consumerGroup: "FuzzGroup", clientId: "c", mqSet: r.pick([[], [{ topic: 1 }], "x", null]) }),
      );
    default:
      return encoder.encode(JSON.stringify(randomValue(r)));
  }
}

/** Builds one fuzz frame. */
export function makeFuzzFrame(r: Random, opaque: number): FuzzFrame {
  const kind = r.pick([
    "valid",
    "valid",
    "unknownCode",
    "badFields",
    "badFields",
    "badFields",
    "badBody",
    "badJsonHeader",
    "badLength",
    "headerTooLong",
    "truncated",
    "binaryGarbage",
    "oversized",
    "manyExtFields",
    "wrongTypes",
  ]);
  const base = { language: "JAVA", version: r.pick([121, 317, 407, 0]), opaque, flag: 0 };
  switch (kind) {
    case "valid": {
      const code = r.pick([
        RequestCode.GET_BROKER_CLUSTER_INFO,
        RequestCode.GET_MAX_OFFSET,
        RequestCode.GET_ROUTEINFO_BY_TOPIC,
      ]);
      return {
        kind,
        opaque,
        expect: "response",
        bytes: frameOf({ ...base, code, extFields: { topic: "FuzzTopic", queueId: "0" } }),
      };
    }
    case "unknownCode": {
      const code = r.pick([7, 99, 1234, 4000, 30000, -3]);
      return { kind, opaque, expect: "code3", bytes: frameOf({ ...base, code, extFields: {} }) };
    }
    case "badFields":
    case "wrongTypes": {
      const extFields: Record<string, unknown> = {};
      for (let i = r.int(0, 8); i > 0; i--) extFields[r.pick(FIELD_NAMES)] = randomValue(r);
      if (r.next() < 0.3) extFields.brokerName = `fuzz-${r.int(0, 99)}`;
      const code = r.pick(SAFE_CODES);
      return { kind, opaque, expect: "response", bytes: frameOf({ ...base, code, extFields }, randomBody(r)) };
    }
    case "badBody": {
      const code = r.pick([
        RequestCode.HEART_BEAT,
        RequestCode.LOCK_BATCH_MQ,
        RequestCode.SEND_BATCH_MESSAGE,
        RequestCode.CHECK_CLIENT_CONFIG,
        RequestCode.QUERY_DATA_VERSION,
      ]);
      const extFields = {
        b: "FuzzTopic",
        a: "P",
        c: "TBW102",
        d: "4",
        e: "0",
        f: "0",
        g: "0",
        h: "0",
        m: "true",
        brokerName: "fuzz-b",
        brokerAddr: "1.2.3.4:5",
        clusterName: "FuzzCluster",
        brokerId: "0",
      };
      return {
        kind,
        opaque,
        expect: "response",
        bytes: frameOf({ ...base, code, extFields }, randomBody(r) ?? r.bytes(10)),
      };
    }
    case "badJsonHeader": {
      const text = r.pick([
        "{",
        "[]",
        "null",
        '"x"',
        '{"code":"10"}',
        '{"code":1.5}',
        '{"opaque":{}}',
        "{}",
        "\u0000\u0001",
      ]);
      const h = encoder.encode(text);
      const out = new Uint8Array(8 + h.length);
      new DataView(out.buffer).setInt32(0, 4 + h.length);
      new DataView(out.buffer).setInt32(4, h.length);
      out.set(h, 8);
      return { kind, expect: "close", bytes: out };
    }
    case "badLength": {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setInt32(0, r.pick([-1, 0, 3, -(2 ** 31)]));
      return { kind, expect: "close", bytes: out };
    }
    case "headerTooLong": {
      const out = new Uint8Array(16);
      new DataView(out.buffer).setInt32(0, 12);
      new DataView(out.buffer).setInt32(4, r.int(13, 0xffffff));
      return { kind, expect: "close", bytes: out };
    }
    case "truncated": {
      const full = frameOf({ ...base, code: RequestCode.GET_BROKER_CLUSTER_INFO, extFields: {} });
      return { kind, expect: "any", truncate: true, bytes: full.subarray(0, r.int(1, full.length - 1)) };
    }
    case "binaryGarbage": {
      const header = r.bytes(r.int(0, 60));
      const out = new Uint8Array(8 + header.length);
      new DataView(out.buffer).setInt32(0, 4 + header.length);
      new DataView(out.buffer).setInt32(4, (SerializeType.ROCKETMQ << 24) | header.length);
      out.set(header, 8);
      return { kind, expect: "any", bytes: out };
    }
    case "oversized": {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setInt32(0, frameBytesMax + r.int(0, 1000));
      return { kind, expect: "close", bytes: out };
    }
    default: { // manyExtFields
      const extFields: Record<string, string> = {};
      for (let i = 0; i < 2000; i++) extFields[`k${i}`] = "v";
      return { kind, expect: "close", bytes: frameOf({ ...base, code: RequestCode.GET_MAX_OFFSET, extFields }) };
    }
  }
}

/** Outcome counters. */
export interface FuzzReport {
  seed: number;
  frames: number;
  byKind: Record<string, number>;
  answered: number;
  closedByServer: number;
  /** Frames that got neither an answer nor a close within the wait: must be 0. */
  hangs: number;
  /** Frames answered with the wrong code or closed when an answer was due: must be 0. */
  wrong: string[];
  canaryOps: number;
  canaryFailures: number;
  canaryMaxMs: number;
  /** RSS at the start. */
  rssBeforeKb: Record<string, number>;
  /** RSS after a fifth of the frames: the heap has warmed up (JIT, V8 growth) by then. */
  rssWarmKb: Record<string, number>;
  rssAfterKb: Record<string, number>;
  seconds: number;
}

/** Options of {@linkcode runFuzz}. */
export interface FuzzOptions {
  frames: number;
  seed: number;
  /** Parallel fuzz connections per server. */
  connections?: number;
  namesrv: string;
  broker: string;
  /** pids to sample memory from, by name. */
  pids?: Record<string, number>;
  /** Progress callback, about once a second. */
  onProgress?: (done: number, report: FuzzReport) => void;
}

/** Resident memory of a process in KiB (Linux), or -1. */
export function rssKb(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? -1);
  } catch {
    return -1;
  }
}

/** A connection that sends one fuzz frame at a time and waits for its fate. */
class FuzzLane {
  #conn: Deno.Conn | undefined;
  #decoder = new FrameDecoder();
  readonly #host: string;
  readonly #port: number;

  constructor(addr: string) {
    const colon = addr.lastIndexOf(":");
    this.#host = addr.slice(0, colon);
    this.#port = Number(addr.slice(colon + 1));
  }

  async #connection(): Promise<Deno.Conn> {
    if (!this.#conn) {
      this.#conn = await Deno.connect({ hostname: this.#host, port: this.#port });
      this.#decoder = new FrameDecoder();
    }
    return this.#conn;
  }

  close(): void {
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#conn = undefined;
  }

  /** Sends a frame; resolves "answer" with the response, "close", or "timeout". */
  async send(
    frame: FuzzFrame,
    waitMs: number,
  ): Promise<{ fate: "answer" | "close" | "timeout" | "sent"; response?: RemotingCommand }> {
    const conn = await this.#connection();
    try {
      await conn.write(frame.bytes);
    } catch {
      this.close();
      return { fate: "close" };
    }
    if (frame.truncate) {
      this.close();
      return { fate: "sent" };
    }
    const buffer = new Uint8Array(64 * 1024);
    const deadline = Date.now() + waitMs;
    while (true) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) =>
        timer = setTimeout(() => resolve("timeout"), Math.max(1, deadline - Date.now()))
      );
      let n: number | null | "timeout";
      try {
        n = await Promise.race([conn.read(buffer), timeout]);
      } catch {
        n = null;
      } finally {
        clearTimeout(timer);
      }
      if (n === "timeout") {
        this.close();
        return { fate: "timeout" };
      }
      if (n === null) {
        this.close();
        return { fate: "close" };
      }
      let commands: RemotingCommand[];
      try {
        commands = this.#decoder.push(buffer.subarray(0, n));
      } catch {
        this.close();
        return { fate: "close" };
      }
      for (const command of commands) {
        if ((command.flag & 1) === 1 && (frame.opaque === undefined || command.opaque === frame.opaque)) {
          return { fate: "answer", response: command };
        }
      }
    }
  }
}

/** Runs the fuzzer against live servers. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const random = new Random(options.seed);
  const started = performance.now();
  const report: FuzzReport = {
    seed: options.seed,
    frames: 0,
    byKind: {},
    answered: 0,
    closedByServer: 0,
    hangs: 0,
    wrong: [],
    canaryOps: 0,
    canaryFailures: 0,
    canaryMaxMs: 0,
    rssBeforeKb: {},
    rssWarmKb: {},
    rssAfterKb: {},
    seconds: 0,
  };
  for (const [name, pid] of Object.entries(options.pids ?? {})) report.rssBeforeKb[name] = rssKb(pid);

  // The canary: a well-behaved client that must never notice the fuzzing.
  const canary = new RemotingClient({ timeoutMs: 5000 });
  await createTopic(canary, options.broker, "FuzzTopic", 2);
  let stopCanary = false;
  const canaryLoop = (async () => {
    let offset = 0;
    while (!stopCanary) {
      const t0 = performance.now();
      try {
        const sent = await sendV2(canary, options.broker, {
          topic: "FuzzTopic",
          queueId: 1,
          body: `canary-${report.canaryOps}`,
        });
        const got = await pull(canary, options.broker, {
          group: "CanaryGroup",
          topic: "FuzzTopic",
          queueId: 1,
          queueOffset: offset,
        });
        if (sent.code !== ResponseCode.SUCCESS || got.messages.length === 0) report.canaryFailures++;
        else offset = Number(got.response.extFields.nextBeginOffset);
        const route = await canary.invoke(options.namesrv, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
        if (route.code !== ResponseCode.SUCCESS) report.canaryFailures++;
      } catch {
        report.canaryFailures++;
      }
      report.canaryMaxMs = Math.max(report.canaryMaxMs, performance.now() - t0);
      report.canaryOps++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();

  const laneCount = options.connections ?? 4;
  const targets = [options.broker, options.namesrv];
  let next = 0;
  let lastProgress = performance.now();
  const worker = async (addr: string) => {
    const lane = new FuzzLane(addr);
    try {
      while (next < options.frames) {
        const index = next++;
        if (index === Math.floor(options.frames / 5)) {
          for (const [name, pid] of Object.entries(options.pids ?? {})) report.rssWarmKb[name] = rssKb(pid);
        }
        const frame = makeFuzzFrame(random, 1_000_000 + index);
        report.frames++;
        report.byKind[frame.kind] = (report.byKind[frame.kind] ?? 0) + 1;
        const { fate, response } = await lane.send(frame, 3000);
        if (fate === "timeout") report.hangs++;
        if (fate === "close") report.closedByServer++;
        if (fate === "answer") report.answered++;
        const bad = (frame.expect === "response" && fate !== "answer") ||
          (frame.expect === "code3" &&
            (fate !== "answer" || response?.code !== ResponseCode.REQUEST_CODE_NOT_SUPPORTED)) ||
          (frame.expect === "close" && fate !== "close");
        if (bad && report.wrong.length < 20) {
          report.wrong.push(
            `${frame.kind} #${index} to ${addr}: ${fate}${
              response ? ` code ${response.code} ${response.remark ?? ""}` : ""
            }`,
          );
        } else if (bad) report.wrong.push("…");
        if (options.onProgress && performance.now() - lastProgress > 1000) {
          lastProgress = performance.now();
          options.onProgress(report.frames, report);
        }
      }
    } finally {
      lane.close();
    }
  };
  await Promise.all(targets.flatMap((addr) => Array.from({ length: laneCount }, () => worker(addr))));
  stopCanary = true;
  await canaryLoop;
  await canary.close();
  for (const [name, pid] of Object.entries(options.pids ?? {})) report.rssAfterKb[name] = rssKb(pid);
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/**
 * Reasons the run failed, empty when it passed. `rssGrowthKbMax` bounds memory growth after
 * warm-up (the last four fifths of the frames): a leak grows with the frames, warm-up does not.
 */
export function fuzzFailures(report: FuzzReport, rssGrowthKbMax: number): string[] {
  const failures: string[] = [];
  if (report.hangs > 0) failures.push(`${report.hangs} frames got neither an answer nor a close`);
  if (report.wrong.length > 0) {
    failures.push(`${report.wrong.length} frames got the wrong treatment: ${report.wrong.slice(0, 5).join("; ")}`);
  }
  if (report.canaryFailures > 0) {
    failures.push(`the canary client failed ${report.canaryFailures} of ${report.canaryOps} round trips`);
  }
  if (report.canaryOps === 0) failures.push("the canary made no round trip");
  for (const [name, warm] of Object.entries(report.rssWarmKb)) {
    const after = report.rssAfterKb[name];
    if (after < 0) failures.push(`${name} is gone`);
    else if (after - warm > rssGrowthKbMax) {
      failures.push(`${name} grew from ${warm} KiB (after warm-up) to ${after} KiB, limit is +${rssGrowthKbMax} KiB`);
    }
  }
  return failures;
}
