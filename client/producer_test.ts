import assert from "node:assert/strict";
import { createResponse, type RemotingCommand } from "../protocol/command.ts";
import { decodeBatchBody, parseProperties } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { type FakeServer, ok, routeBody, startFakeServer, testClientOptions } from "./_testing.ts";
import { BrokerResponseError, ClientClosedError } from "./errors.ts";
import { checkBatch, Producer, splitBatches } from "./producer.ts";
import { RemotingTimeoutError } from "./remoting_client.ts";

const SEND_CODES = new Set<number>([RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_BATCH_MESSAGE]);

interface FakeBroker {
  server: FakeServer;
  sends(): RemotingCommand[];
}

function fakeBroker(
  answer: (request: RemotingCommand) => RemotingCommand | null = (r) => r.code === -1 ? null : null,
): FakeBroker {
  let queueOffset = 0;
  const server = startFakeServer((request) => {
    if (!SEND_CODES.has(request.code)) return ok(request);
    const custom = answer(request);
    if (custom) return custom;
    return ok(request, {
      msgId: "7F00000100002A9F00000000000000" + String(queueOffset).padStart(2, "0"),
      queueId: request.extFields.e,
      queueOffset: String(queueOffset++),
      MSG_REGION: "DefaultRegion",
      TRACE_ON: "true",
    });
  });
  return { server, sends: () => server.requests.filter((r) => SEND_CODES.has(r.code)) };
}

async function withCluster(
  brokers: Record<string, FakeBroker>,
  run: (nameServer: string) => Promise<void>,
): Promise<void> {
  const addrs = Object.fromEntries(Object.entries(brokers).map(([name, b]) => [name, b.server.addr]));
  const ns = startFakeServer((request) => ok(request, {}, routeBody(addrs, 2)));
  try {
    await run(ns.addr);
  } finally {
    await ns.close();
    for (const broker of Object.values(brokers)) await broker.server.close();
  }
}

Deno.test("Producer.send() returns msgId, offsetMsgId, queue and queue offset", async () => {
  const a = fakeBroker();
  await withCluster({ "broker-a": a }, async (nameServer) => {
    const producer = new Producer({ nameServer, ...testClientOptions, group: "pg" });
    try {
      const result = await producer.send({
        topic: "t",
        body: "hello",
        tags: "TagA",
        keys: "k1",
        properties: { p: "1" },
      });
      assert.equal(result.status, "SEND_OK");
      assert.equal(result.queue.brokerName, "broker-a");
      assert.equal(result.queueOffset, 0);
      assert.equal(result.offsetMsgId.length, 32);
      assert.equal(result.regionId, "DefaultRegion");
      const [request] = a.sends();
      const props = parseProperties(request.extFields.i);
      assert.equal(props.get("UNIQ_KEY"), result.msgId);
      assert.equal(props.get("TAGS"), "TagA");
      assert.equal(props.get("KEYS"), "k1");
      assert.equal(props.get("p"), "1");
      assert.equal(request.extFields.a, "pg");
      assert.equal(request.extFields.c, "TBW102");
      assert.equal(request.extFields.f, "0");
      assert.equal(request.extFields.n, "broker-a");
    } finally {
      await producer.shutdown();
    }
    assert.ok(a.server.requests.some((r) => r.code === RequestCode.UNREGISTER_CLIENT), "shutdown unregisters");
  });
});

Deno.test("Producer.send() compresses bodies of 4 KiB and more with sysFlag 0x301", async () => {
  const a = fakeBroker();
  await withCluster({ "broker-a": a }, async (nameServer) => {
    await using producer = new Producer({ nameServer, ...testClientOptions });
    await producer.send({ topic: "t", body: "x".repeat(4095) });
    await producer.send({ topic: "t", body: "x".repeat(4096) });
    const [small, big] = a.sends();
    assert.equal(small.extFields.f, "0");
    assert.equal(big.extFields.f, String(0x301));
    assert.ok(big.body!.length < 4096);
  });
});

Deno.test("Producer.send() retries a retriable failure on another broker and benches the failing one", async () => {
  const a = fakeBroker((r) => createResponse(r, 1, { remark: "store error" }));
  const b = fakeBroker();
  await withCluster({ "broker-a": a, "broker-b": b }, async (nameServer) => {
    await using producer = new Producer({ nameServer, ...testClientOptions });
    for (let i = 0; i < 10; i++) {
      const result = await producer.send({ topic: "t", body: `m${i}` });
      assert.equal(result.queue.brokerName, "broker-b");
    }
    assert.ok(a.sends().length <= 1, `broker-a got ${a.sends().length} sends after failing`);
    assert.equal(b.sends().length, 10);
  });
});

Deno.test("Producer.send() does not retry a non-retriable code", async () => {
  const a = fakeBroker((r) => createResponse(r, 13, { remark: "message illegal" }));
  const b = fakeBroker((r) => createResponse(r, 13, { remark: "message illegal" }));
  await withCluster({ "broker-a": a, "broker-b": b }, async (nameServer) => {
    await using producer = new Producer({ nameServer, ...testClientOptions });
    const error = await producer.send({ topic: "t", body: "x" }).catch((e) => e);
    assert.ok(error instanceof BrokerResponseError);
    assert.equal(error.code, 13);
    assert.equal(a.sends().length + b.sends().length, 1);
  });
});

Deno.test("Producer.send() gives up with RemotingTimeoutError within the send timeout", async () => {
  const a = fakeBroker(() => null);
  const silent = startFakeServer((request) => SEND_CODES.has(request.code) ? null : ok(request));
  await withCluster({ "broker-a": { server: silent, sends: () => [] } }, async (nameServer) => {
    await using producer = new Producer({ nameServer, ...testClientOptions, sendTimeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(producer.send({ topic: "t", body: "x" }), RemotingTimeoutError);
    assert.ok(Date.now() - started < 1000);
  });
  await a.server.close();
});

Deno.test("Producer keeps at most producerInflightMax sends on the wire", async () => {
  const held: Array<() => void> = [];
  const server = startFakeServer((request, connection) => {
    if (!SEND_CODES.has(request.code)) return ok(request);
    held.push(() => connection.send(ok(request, { msgId: "X", queueId: request.extFields.e, queueOffset: "0" })));
    return null;
  });
  await withCluster({ "broker-a": { server, sends: () => [] } }, async (nameServer) => {
    await using producer = new Producer({ nameServer, ...testClientOptions, producerInflightMax: 2 });
    const sends = Array.from({ length: 5 }, (_, i) => producer.send({ topic: "t", body: `m${i}` }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(held.length, 2);
    assert.equal(producer.inflight, 2);
    let released = 0;
    while (released < 5) {
      assert.ok(held.length <= 2, `${held.length} sends on the wire`);
      for (const release of held.splice(0)) {
        release();
        released++;
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    assert.equal((await Promise.all(sends)).length, 5);
  });
});

Deno.test("Producer.send() with a sharding key always uses the same queue", async () => {
  const a = fakeBroker();
  const b = fakeBroker();
  await withCluster({ "broker-a": a, "broker-b": b }, async (nameServer) => {
    await using producer = new Producer({ nameServer, ...testClientOptions });
    const queues = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const result = await producer.send({ topic: "t", body: `step ${i}` }, { shardingKey: "order-7" });
      queues.add(`${result.queue.brokerName}/${result.queue.queueId}`);
    }
    assert.equal(queues.size, 1);
  });
});

Deno.test("Producer.sendBatch() sends code 320 with per-message ids", async () => {
  const a = fakeBroker();
  await withCluster({ "broker-a": a }, async (nameServer) => {
    await using producer = new Producer({ nameServer, ...testClientOptions });
    const result = await producer.sendBatch([{ topic: "t", body: "one", tags: "A" }, { topic: "t", body: "two" }]);
    const [request] = a.sends();
    assert.equal(request.code, RequestCode.SEND_BATCH_MESSAGE);
    assert.equal(request.extFields.m, "true");
    const entries = decodeBatchBody(request.body!);
    assert.equal(entries.length, 2);
    const ids = entries.map((e) => parseProperties(e.properties).get("UNIQ_KEY"));
    assert.equal(result.msgId, ids.join(","));
  });
});

Deno.test("Producer.sendBatch() checks the encoded size before sending anything", async () => {
  const a = fakeBroker();
  await withCluster({ "broker-a": a }, async (nameServer) => {
    await using producer = new Producer({ nameServer, ...testClientOptions, maxMessageBytes: 1000 });
    const messages = Array.from({ length: 5 }, () => ({ topic: "t", body: "x".repeat(300) }));
    await assert.rejects(producer.sendBatch(messages), RangeError);
    await assert.rejects(producer.sendBatch([{ topic: "t", body: "a" }, { topic: "u", body: "b" }]), TypeError);
    await assert.rejects(producer.sendBatch([{ topic: "t", body: "a", delayLevel: 2 }]), TypeError);
    assert.equal(a.server.requests.length, 0);
    const batches = splitBatches(messages, 1000);
    assert.ok(batches.length >= 2 && batches.flat().length === 5);
    for (const batch of batches) await producer.sendBatch(batch);
  });
});

Deno.test("checkBatch() rejects retry topics and mixed WAIT flags", () => {
  assert.throws(() => checkBatch([{ topic: "%RETRY%g", body: "x" }], 10, 100), TypeError);
  assert.throws(
    () => checkBatch([{ topic: "t", body: "x" }, { topic: "t", body: "y", waitStoreMsgOk: false }], 10, 100),
    TypeError,
  );
  assert.throws(() => checkBatch([], 0, 100), TypeError);
});

Deno.test("Producer validates messages before taking a permit", async () => {
  await using producer = new Producer({ nameServer: "127.0.0.1:1", ...testClientOptions, maxMessageBytes: 10 });
  await assert.rejects(producer.send({ topic: "t", body: "" }), TypeError);
  await assert.rejects(producer.send({ topic: "bad topic", body: "x" }), TypeError);
  await assert.rejects(producer.send({ topic: "t", body: "x".repeat(11) }), RangeError);
  await assert.rejects(producer.send({ topic: "t", body: "x", properties: { KEYS: "k" } }), TypeError);
  assert.throws(() => new Producer({ nameServer: "nope", ...testClientOptions }), TypeError);
  assert.throws(() => new Producer({ nameServer: "127.0.0.1:1", producerInflightMax: 0 }), RangeError);
});

Deno.test("Producer.sendAsync() reports to the callback and sendOneway() does not wait", async () => {
  const a = fakeBroker();
  await withCluster({ "broker-a": a }, async (nameServer) => {
    const producer = new Producer({ nameServer, ...testClientOptions });
    const outcome = new Promise<string>((resolve) =>
      producer.sendAsync({ topic: "t", body: "async" }, (error, result) => resolve(error ? "error" : result!.status))
    );
    assert.equal(await outcome, "SEND_OK");
    await producer.sendOneway({ topic: "t", body: "oneway" });
    await producer.shutdown();
    await assert.rejects(producer.send({ topic: "t", body: "late" }), ClientClosedError);
    assert.equal(a.sends().length, 2);
  });
});

Deno.test("Producer.send() stops waiting when its signal aborts", async () => {
  const held: Array<() => void> = [];
  const server = startFakeServer((request, connection) => {
    if (!SEND_CODES.has(request.code)) return ok(request);
    held.push(() => connection.send(ok(request, { msgId: "X", queueId: request.extFields.e, queueOffset: "0" })));
    return null;
  });
  await withCluster({ "broker-a": { server, sends: () => [] } }, async (nameServer) => {
    await using producer = new Producer({ nameServer, ...testClientOptions, producerInflightMax: 1 });
    const first = producer.send({ topic: "t", body: "holds the only permit" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const waiting = new AbortController();
    const queued = producer.send({ topic: "t", body: "waits for a permit" }, { signal: waiting.signal });
    waiting.abort(new Error("gave up waiting"));
    await assert.rejects(queued, /gave up waiting/);
    for (const release of held.splice(0)) release();
    await first;
    const replying = new AbortController();
    const inFlight = producer.send({ topic: "t", body: "waits for the reply" }, { signal: replying.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    replying.abort(new Error("gave up on the reply"));
    await assert.rejects(inFlight, /gave up on the reply/);
    for (const release of held.splice(0)) release();
    assert.equal(producer.inflight, 0);
  });
});
