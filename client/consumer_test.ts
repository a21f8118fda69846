import assert from "node:assert/strict";
import { createResponse, type RemotingCommand } from "../protocol/command.ts";
import { encodeMessageRecord, parseProperties } from "../protocol/message.ts";
import { decodeJsonBody, encodeJsonBody } from "../protocol/bodies.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { ok, startFakeServer, testClientOptions } from "./_testing.ts";
import { PushConsumer, type PushConsumerOptions } from "./consumer.ts";
import { waitFor } from "./e2e_scenarios.ts";

const TOPIC = "t";
const GROUP = "g";

function record(queueOffset: number, body: string, properties: string): Uint8Array {
  return encodeMessageRecord({
    queueId: 0,
    flag: 3,
    queueOffset,
    commitLogOffset: 1000 + queueOffset * 200,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: { ip: new Uint8Array([127, 0, 0, 1]), port: 1 },
    storeTimestamp: 2,
    storeHost: { ip: new Uint8Array([127, 0, 0, 1]), port: 2 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: new TextEncoder().encode(body),
    topic: TOPIC,
    properties,
  });
}

interface FakeBrokerOptions {
  /** Messages in queue 0 of the topic. */
  messages: number;
  /** Most messages per pull reply. */
  perPull?: number;
  sendBackCode?: number;
  /** GET_MAX_OFFSET answer (default 0). */
  maxOffset?: number;
  /** SEARCH_OFFSET_BY_TIMESTAMP answer (default 0). */
  searchOffset?: number;
}

/** A NameServer + broker serving one topic with one queue, enough for a push consumer. */
function fakeBroker(options: FakeBrokerOptions) {
  const pulls: RemotingCommand[] = [];
  const sent: RemotingCommand[] = [];
  const committed = new Map<string, number>();
  let clientId = "";
  let brokerAddr = "";
  const route = (topic: string) =>
    encodeJsonBody({
      brokerDatas: [{ brokerAddrs: new Map([[0, brokerAddr]]), brokerName: "b", cluster: "c" }],
      filterServerTable: {},
      queueDatas: [{ brokerName: "b", perm: 6, readQueueNums: 1, topicSysFlag: 0, writeQueueNums: 1, topic }],
    });
  const server = startFakeServer(async (request) => {
    const ext = request.extFields;
    switch (request.code) {
      case RequestCode.GET_ROUTEINFO_BY_TOPIC:
        return ok(request, {}, route(ext.topic));
      case RequestCode.HEART_BEAT:
        clientId = (decodeJsonBody(request.body, "heartbeat") as { clientID: string }).clientID;
        return ok(request);
      case RequestCode.GET_CONSUMER_LIST_BY_GROUP:
        return ok(request, {}, encodeJsonBody({ consumerIdList: [clientId] }));
      case RequestCode.QUERY_CONSUMER_OFFSET:
        return createResponse(request, ResponseCode.QUERY_NOT_FOUND);
      case RequestCode.GET_MAX_OFFSET:
        return ok(request, { offset: String(options.maxOffset ?? 0) });
      case RequestCode.SEARCH_OFFSET_BY_TIMESTAMP:
        return ok(request, { offset: String(options.searchOffset ?? 0) });
      case RequestCode.UPDATE_CONSUMER_OFFSET:
        committed.set(ext.topic, Number(ext.commitOffset));
        return ok(request);
      case RequestCode.PULL_MESSAGE: {
        pulls.push(request);
        const from = Number(ext.queueOffset);
        const available = ext.topic === TOPIC ? options.messages - from : 0;
        const pullHeader = (next: number) => ({
          nextBeginOffset: String(next),
          minOffset: "0",
          maxOffset: String(options.messages),
          suggestWhichBrokerId: "0",
        });
        if (available <= 0) {
          await new Promise((resolve) => setTimeout(resolve, 50)); // a short "long poll"
          return createResponse(request, ResponseCode.PULL_NOT_FOUND, { extFields: pullHeader(from) });
        }
        const count = Math.min(available, options.perPull ?? 32, Number(ext.maxMsgNums));
        const parts = Array.from(
          { length: count },
          (_, i) => record(from + i, `m${from + i}`, `TAGS\u0001x\u0002UNIQ_KEY\u0001ID${from + i}`),
        );
        const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let pos = 0;
        for (const part of parts) {
          body.set(part, pos);
          pos += part.length;
        }
        return createResponse(request, 0, { extFields: pullHeader(from + count), body });
      }
      case RequestCode.CONSUMER_SEND_MSG_BACK:
        return createResponse(request, options.sendBackCode ?? 0, { remark: "send back refused" });
      case RequestCode.SEND_MESSAGE_V2:
        sent.push(request);
        return ok(request, { msgId: "X", queueId: "0", queueOffset: "0" });
      default:
        return ok(request);
    }
  });
  brokerAddr = server.addr;
  return { server, pulls, sent, committed };
}

function consumerOf(nameServer: string, options: Partial<PushConsumerOptions>): PushConsumer {
  return new PushConsumer({
    ...testClientOptions,
    nameServer,
    group: GROUP,
    brokerSuspendMaxMs: 100,
    pullDelayOnErrorMs: 50,
    shutdownTimeoutMs: 1000,
    ...options,
  }).subscribe(TOPIC, "*");
}

Deno.test("PushConsumer re-sends a failed message to %RETRY%<group> when send-back fails", async () => {
  const broker = fakeBroker({ messages: 1, sendBackCode: ResponseCode.SYSTEM_ERROR });
  const consumer = consumerOf(broker.server.addr, { handler: () => "RECONSUME_LATER" });
  try {
    await consumer.start();
    await waitFor(() => broker.sent.length > 0, 5000, "the fallback send");
    const [resend] = broker.sent;
    assert.equal(resend.extFields.b, "%RETRY%g");
    assert.equal(resend.extFields.j, "1", "reconsumeTimes header");
    assert.equal(resend.extFields.l, "16", "maxReconsumeTimes header");
    const props = parseProperties(resend.extFields.i);
    assert.equal(props.get("RETRY_TOPIC"), TOPIC);
    assert.equal(props.get("ORIGIN_MESSAGE_ID"), "ID0");
    assert.equal(props.get("UNIQ_KEY"), "ID0", "the client id survives the re-send");
    assert.equal(props.get("DELAY"), "3");
    assert.equal(props.get("TAGS"), "x");
    assert.equal(resend.extFields.h, "3", "user flag");
    assert.equal(new TextDecoder().decode(resend.body), "m0");
    await waitFor(() => consumer.assignedQueues().length > 0, 2000, "assignment");
  } finally {
    await consumer.shutdown();
  }
  assert.equal(broker.committed.get(TOPIC), 1, "the message counts as consumed once re-sent");
  await broker.server.close();
});

Deno.test("PushConsumer stops pulling a queue that holds pullThresholdForQueue messages", async () => {
  const broker = fakeBroker({ messages: 1000, perPull: 4 });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const consumer = consumerOf(broker.server.addr, {
    pullBatchSize: 4,
    pullThresholdForQueue: 6,
    consumeConcurrency: 1,
    handler: () => gate,
  });
  try {
    await consumer.start();
    await waitFor(() => broker.pulls.length >= 2, 3000, "two pulls");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const topicPulls = () => broker.pulls.filter((p) => p.extFields.topic === TOPIC).length;
    const settled = topicPulls();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(topicPulls(), settled, "no pull while the queue is over its threshold");
    assert.ok(settled <= 3, `${settled} pulls of 4 messages for a threshold of 6`);
  } finally {
    release();
    await consumer.shutdown();
    await broker.server.close();
  }
});

Deno.test("PushConsumer runs at most consumeConcurrency handlers at once and commits on shutdown", async () => {
  const broker = fakeBroker({ messages: 20 });
  let running = 0;
  let maxRunning = 0;
  let done = 0;
  const consumer = consumerOf(broker.server.addr, {
    consumeConcurrency: 3,
    handler: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 10));
      running--;
      done++;
    },
  });
  try {
    await consumer.start();
    await waitFor(() => done === 20, 5000, "20 messages");
  } finally {
    await consumer.shutdown();
    await broker.server.close();
  }
  assert.equal(maxRunning, 3);
  assert.equal(broker.committed.get(TOPIC), 20);
  assert.ok(broker.server.requests.some((r) => r.code === RequestCode.UNREGISTER_CLIENT));
});

Deno.test("PushConsumer validates its options", () => {
  assert.throws(() => new PushConsumer({ nameServer: "127.0.0.1:1", group: "bad group" }), TypeError);
  assert.throws(() => new PushConsumer({ nameServer: "127.0.0.1:1", group: "g", consumeConcurrency: 0 }), RangeError);
  assert.throws(
    () => new PushConsumer({ nameServer: "127.0.0.1:1", group: "g", messageModel: "X" as "CLUSTERING" }),
    TypeError,
  );
  const withHandler = new PushConsumer({ nameServer: "127.0.0.1:1", group: "g", handler: () => {} });
  assert.throws(() => withHandler.messages(), TypeError);
});

for (
  const [consumeFromWhere, expected] of [
    ["CONSUME_FROM_LAST_OFFSET", 7],
    ["CONSUME_FROM_FIRST_OFFSET", 0],
    ["CONSUME_FROM_TIMESTAMP", 4],
  ] as const
) {
  Deno.test(`PushConsumer without a committed offset starts ${consumeFromWhere} at ${expected}`, async () => {
    const broker = fakeBroker({ messages: 0, maxOffset: 7, searchOffset: 4 });
    const consumer = consumerOf(broker.server.addr, { consumeFromWhere, handler: () => {} });
    try {
      await consumer.start();
      await waitFor(() => broker.pulls.some((p) => p.extFields.topic === TOPIC), 3000, "the first pull");
      const first = broker.pulls.find((p) => p.extFields.topic === TOPIC)!;
      assert.equal(first.extFields.queueOffset, String(expected));
      const retry = broker.pulls.find((p) => p.extFields.topic === "%RETRY%g");
      if (retry && consumeFromWhere !== "CONSUME_FROM_TIMESTAMP") assert.equal(retry.extFields.queueOffset, "0");
      if (consumeFromWhere === "CONSUME_FROM_TIMESTAMP") {
        assert.ok(broker.server.requests.some((r) => r.code === RequestCode.SEARCH_OFFSET_BY_TIMESTAMP));
      }
    } finally {
      await consumer.shutdown();
      await broker.server.close();
    }
  });
}
