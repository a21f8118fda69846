/**
 * End-to-end scenarios for the client, as functions of a NameServer address, so the same
 * checks run against the reference Apache RocketMQ 4.9.7 (`e2e_reference_test.ts`) and against
 * denomq processes (`tests/`). Each scenario uses fresh topic and group names and cleans up its
 * clients; none needs an empty broker.
 *
 * Test-only (uses `node:assert` and Deno's temp dirs); not exported from `mod.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createRequest } from "../protocol/command.ts";
import { decodeJsonBody, parseFastJson, readTopicRouteData } from "../protocol/mod.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { silentLogger } from "./_log.ts";
import type { ClientOptions } from "./client_instance.ts";
import { PushConsumer, type PushConsumerOptions } from "./consumer.ts";
import { LitePullConsumer } from "./lite_pull_consumer.ts";
import type { MessageQueue, ReceivedMessage } from "./message.ts";
import { Producer, type ProducerOptions, type SendResult } from "./producer.ts";
import { RemotingClient } from "./remoting_client.ts";

/** Where the scenarios run. */
export interface E2eContext {
  /** NameServer address(es). */
  nameServer: string;
  /** Restarts the broker (kill and start, same store); enables {@linkcode brokerRestartLosesNothing}. */
  restartBroker?: () => Promise<void>;
  /** Log client warnings (default: silent). */
  verbose?: boolean;
  /** The broker's delay per level in ms, level 1 first (default: RocketMQ's `1s 5s 10s …`). */
  delayLevelsMs?: number[];
}

/** RocketMQ's default `messageDelayLevel` in ms. */
const DEFAULT_DELAY_LEVELS_MS = [1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200]
  .map((s) => s * 1000);

/** The delay of `level` on the scenario's broker. */
function delayOf(ctx: E2eContext, level: number): number {
  return (ctx.delayLevelsMs ?? DEFAULT_DELAY_LEVELS_MS)[level - 1];
}

/** A scenario. */
export type E2eScenario = (ctx: E2eContext) => Promise<void>;

let counter = 0;

/** A name unique to this run. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${(++counter).toString(36)}`;
}

/** Waits until `condition()` holds, polling every 50 ms. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function base(ctx: E2eContext): ClientOptions {
  return {
    nameServer: ctx.nameServer,
    logger: ctx.verbose ? undefined : silentLogger,
    pollNameServerIntervalMs: 1000,
    reconnectBackoffMs: 50,
    reconnectBackoffMaxMs: 500,
  };
}

function producerOf(ctx: E2eContext, options: Partial<ProducerOptions> = {}): Producer {
  return new Producer({ ...base(ctx), defaultTopicQueueNums: 4, ...options });
}

function consumerOf(ctx: E2eContext, group: string, options: Partial<PushConsumerOptions> = {}): PushConsumer {
  return new PushConsumer({
    ...base(ctx),
    group,
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
    rebalanceIntervalMs: 2000,
    persistOffsetIntervalMs: 1000,
    ...options,
  });
}

/** Creates `topic` (by auto-create on first send) and waits until the NameServer serves its full route. */
async function createTopic(ctx: E2eContext, producer: Producer, topic: string, queues = 4): Promise<SendResult> {
  const first = await producer.send({ topic, body: "warm-up", tags: "warmup" });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    // The producer may hold a route borrowed from TBW102: ask the NameServer itself.
    const served = await servedQueueCount(ctx.nameServer.split(";").at(-1)!, topic);
    if (served >= queues) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return first;
}

/** Write queues the NameServer lists for `topic` (0 if it has no route). */
async function servedQueueCount(nameServer: string, topic: string): Promise<number> {
  const client = new RemotingClient();
  try {
    const response = await client.invoke(nameServer, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
    if (response.code !== ResponseCode.SUCCESS) return 0;
    const route = readTopicRouteData(decodeJsonBody(response.body, "route"));
    return route.queueDatas.reduce((sum, q) => sum + q.writeQueueNums, 0);
  } catch {
    return 0;
  } finally {
    await client.close();
  }
}

/** Sends, consumes with a tag filter, and checks bodies, keys, tags, properties and ids. */
export const produceAndConsume: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_basic");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const sent = new Map<string, { body: string; key: string }>();
  for (let i = 0; i < 20; i++) {
    const body = i === 7 ? "big ".repeat(3000) : `message ${i}`;
    const result = await producer.send({
      topic,
      body,
      tags: i % 2 === 0 ? "even" : "odd",
      keys: [`key-${i}`, "common"],
      properties: { index: String(i) },
    });
    assert.equal(result.status, "SEND_OK");
    assert.equal(result.queue.topic, topic);
    assert.ok(result.queueOffset >= 0);
    if (i % 2 === 1) sent.set(result.msgId, { body, key: `key-${i}` });
  }
  const received = new Map<string, ReceivedMessage>();
  await using consumer = consumerOf(ctx, uniqueName("E2E_basic_cg"), {
    handler: (message) => void received.set(message.msgId, message),
  });
  consumer.subscribe(topic, "odd");
  await consumer.start();
  await waitFor(() => received.size >= sent.size, 15_000, `${sent.size} odd messages`);
  for (const [msgId, expected] of sent) {
    const message = received.get(msgId);
    assert.ok(message, `message ${msgId} received`);
    assert.equal(message.text, expected.body);
    assert.equal(message.tags, "odd");
    assert.deepEqual(message.keys, [expected.key, "common"]);
    assert.equal(message.userProperties.index, expected.key.slice(4));
    assert.equal(message.topic, topic);
  }
  for (const message of received.values()) assert.equal(message.tags, "odd");
};

/** Batch lands in one queue with consecutive offsets; a delayed message arrives after its delay. */
export const batchAndDelay: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_batch");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const batch = await producer.sendBatch(
    Array.from({ length: 10 }, (_, i) => ({ topic, body: `b${i}`, keys: `b${i}` })),
  );
  assert.equal(batch.msgId.split(",").length, 10);
  assert.equal(batch.offsetMsgId.split(",").length, 10);
  const received: ReceivedMessage[] = [];
  await using consumer = consumerOf(ctx, uniqueName("E2E_batch_cg"), { handler: (m) => void received.push(m) });
  consumer.subscribe(topic, "*");
  await consumer.start();
  await waitFor(() => received.filter((m) => m.text.startsWith("b")).length >= 10, 15_000, "the batch");
  const inBatch = received.filter((m) => m.text.startsWith("b")).sort((a, b) => a.queueOffset - b.queueOffset);
  assert.ok(inBatch.every((m) => m.queueId === batch.queue.queueId));
  assert.deepEqual(inBatch.map((m) => m.queueOffset), Array.from({ length: 10 }, (_, i) => batch.queueOffset + i));
  assert.deepEqual(inBatch.map((m) => m.msgId), batch.msgId.split(","));

  const sentAt = Date.now();
  const delayed = await producer.send({ topic, body: "delayed", delayLevel: 2 }); // 5 s
  await waitFor(() => received.some((m) => m.msgId === delayed.msgId), 15_000, "the delayed message");
  const arrivedAfter = Date.now() - sentAt;
  assert.ok(arrivedAfter >= delayOf(ctx, 2) * 0.8, `delay level 2 arrived after ${arrivedAfter} ms`);
};

/** Ordered messages of each sharding key arrive in send order with orderly consumption. */
export const orderlyConsumption: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_order");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const keys = ["order-a", "order-b", "order-c", "order-d"];
  const steps = 25;
  const seen = new Map<string, number[]>();
  let failedOnce = false;
  let active = 0;
  let maxActivePerQueue = 0;
  const activeByQueue = new Map<number, number>();
  await using consumer = consumerOf(ctx, uniqueName("E2E_order_cg"), {
    orderly: true,
    suspendCurrentQueueTimeMs: 100,
    handler: async (message) => {
      if (message.tags === "warmup") return;
      const queueActive = (activeByQueue.get(message.queueId) ?? 0) + 1;
      activeByQueue.set(message.queueId, queueActive);
      maxActivePerQueue = Math.max(maxActivePerQueue, queueActive);
      active++;
      try {
        await new Promise((resolve) => setTimeout(resolve, 1));
        const [key, step] = message.text.split(":");
        // Fail step 5 of one key once: orderly consumption must retry it before step 6.
        if (key === "order-b" && step === "5" && !failedOnce) {
          failedOnce = true;
          return "SUSPEND_CURRENT_QUEUE_A_MOMENT";
        }
        const list = seen.get(key) ?? [];
        list.push(Number(step));
        seen.set(key, list);
      } finally {
        active--;
        activeByQueue.set(message.queueId, queueActive - 1);
      }
    },
  });
  consumer.subscribe(topic, "*");
  await consumer.start();
  for (let step = 0; step < steps; step++) {
    for (const key of keys) await producer.send({ topic, body: `${key}:${step}` }, { shardingKey: key });
  }
  await waitFor(() => keys.every((k) => (seen.get(k)?.length ?? 0) >= steps), 20_000, "every step of every key");
  for (const key of keys) assert.deepEqual(seen.get(key), Array.from({ length: steps }, (_, i) => i), key);
  assert.ok(failedOnce);
  assert.equal(maxActivePerQueue, 1, "one message at a time per queue");
  assert.equal(active, 0);
};

/** Two members split the queues, then one takes over everything when the other leaves. */
export const clusteringSplitAndTakeover: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_cluster");
  const group = uniqueName("E2E_cluster_cg");
  await using producer = producerOf(ctx, { defaultTopicQueueNums: 8 });
  await createTopic(ctx, producer, topic, 8);
  const byMember = [new Set<string>(), new Set<string>()];
  const make = (index: number) =>
    consumerOf(ctx, group, {
      instanceName: `member-${index}`,
      handler: (m) => void byMember[index].add(m.msgId),
    }).subscribe(topic, "*");
  const first = make(0);
  const second = make(1);
  try {
    await first.start();
    await second.start();
    const topicQueues = (c: PushConsumer) => c.assignedQueues().filter((q) => q.topic === topic);
    await waitFor(
      () => topicQueues(first).length === 4 && topicQueues(second).length === 4,
      15_000,
      "an even 4/4 split",
    );
    const keysOf = (qs: MessageQueue[]) => new Set(qs.map((q) => `${q.brokerName}/${q.queueId}`));
    const a = keysOf(topicQueues(first));
    for (const key of keysOf(topicQueues(second))) assert.ok(!a.has(key), `queue ${key} assigned twice`);

    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await producer.send({ topic, body: `m${i}` })).msgId);
    const all = () => new Set([...byMember[0], ...byMember[1]]);
    await waitFor(() => ids.every((id) => all().has(id)), 15_000, "all 40 messages across both members");
    assert.ok(ids.some((id) => byMember[0].has(id)) && ids.some((id) => byMember[1].has(id)), "both members consumed");

    await second.shutdown();
    await waitFor(() => topicQueues(first).length === 8, 15_000, "the survivor to take all 8 queues");
    const later: string[] = [];
    for (let i = 0; i < 20; i++) later.push((await producer.send({ topic, body: `later${i}` })).msgId);
    await waitFor(() => later.every((id) => byMember[0].has(id)), 15_000, "the survivor to get every later message");
  } finally {
    await second.shutdown();
    await first.shutdown();
  }
};

/** Every broadcasting member gets every message; offsets are kept in local files. */
export const broadcasting: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_bcast");
  const group = uniqueName("E2E_bcast_cg");
  const dir = await Deno.makeTempDir({ prefix: "denomq-offsets-" });
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const got = [new Set<string>(), new Set<string>()];
  const members = [0, 1].map((i) =>
    consumerOf(ctx, group, {
      messageModel: "BROADCASTING",
      instanceName: `bcast-${i}`,
      offsetStoreDir: dir,
      handler: (m) => void got[i].add(m.msgId),
    }).subscribe(topic, "*")
  );
  try {
    for (const member of members) await member.start();
    for (const member of members) assert.equal(member.assignedQueues().length, 4);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await producer.send({ topic, body: `b${i}` })).msgId);
    await waitFor(() => got.every((set) => ids.every((id) => set.has(id))), 15_000, "both members to get all 20");
    for (const member of members) await member.shutdown();
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.equal(files.length, 2, `one offset directory per member: ${files}`);
  } finally {
    for (const member of members) await member.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
};

/** A failing message is redelivered by the broker, then lands in the DLQ after maxReconsumeTimes. */
export const retryThenDeadLetter: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_retry");
  const group = uniqueName("E2E_retry_cg");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const attempts: Array<{ at: number; reconsumeTimes: number; topic: string }> = [];
  await using consumer = consumerOf(ctx, group, {
    maxReconsumeTimes: 1,
    handler: (message) => {
      if (message.tags !== "doomed") return;
      attempts.push({ at: Date.now(), reconsumeTimes: message.reconsumeTimes, topic: message.topic });
      throw new Error("handler always fails");
    },
  });
  consumer.subscribe(topic, "*");
  await consumer.start();
  const sent = await producer.send({ topic, body: "doomed body", tags: "doomed", keys: "doomed-key" });
  await waitFor(() => attempts.length >= 2, 30_000, "the first redelivery (delay level 3, 10 s)");
  assert.equal(attempts[0].reconsumeTimes, 0);
  assert.equal(attempts[1].reconsumeTimes, 1);
  assert.equal(attempts[1].topic, topic, "a retried message shows its original topic");
  assert.ok(
    attempts[1].at - attempts[0].at >= delayOf(ctx, 3) * 0.9,
    `redelivered after ${attempts[1].at - attempts[0].at} ms`,
  );

  const dlq = `%DLQ%${group}`;
  await using reader = new LitePullConsumer({
    ...base(ctx),
    group: uniqueName("E2E_dlq_reader"),
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
    autoCommit: false,
  });
  let queues: MessageQueue[] = [];
  const deadline = Date.now() + 15_000;
  while (queues.length === 0 && Date.now() < deadline) {
    queues = await reader.fetchQueues(dlq).catch(() => []);
    if (queues.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(queues.length > 0, "the DLQ exists");
  reader.assign(queues);
  await reader.start();
  let dead: ReceivedMessage | undefined;
  while (!dead && Date.now() < deadline + 15_000) {
    dead = (await reader.poll(1000)).find((m) => m.msgId === sent.msgId);
  }
  assert.ok(dead, "the message reached the DLQ");
  assert.equal(dead.text, "doomed body");
  assert.deepEqual(dead.keys, ["doomed-key"]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(attempts.length, 2, "no delivery after the DLQ");
};

/** `for await` consumption; a nacked message comes back with reconsumeTimes 1. */
export const iteratorWithNack: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_iter");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  await using consumer = consumerOf(ctx, uniqueName("E2E_iter_cg"));
  consumer.subscribe(topic, "work");
  await consumer.start();
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) ids.add((await producer.send({ topic, body: `w${i}`, tags: "work" })).msgId);
  const seen: Array<{ msgId: string; reconsumeTimes: number }> = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20_000);
  let nacked: string | undefined;
  for await (const message of consumer.messages({ signal: controller.signal })) {
    seen.push({ msgId: message.msgId, reconsumeTimes: message.reconsumeTimes });
    if (nacked === undefined) {
      nacked = message.msgId;
      consumer.nack(message, 1); // redeliver after 1 s
    }
    if (seen.length >= 6) break;
  }
  clearTimeout(timer);
  assert.equal(seen.length, 6);
  const again = seen.filter((s) => s.msgId === nacked);
  assert.deepEqual(again.map((s) => s.reconsumeTimes), [0, 1]);
  assert.deepEqual(new Set(seen.map((s) => s.msgId)), ids);
};

/** Committed offsets survive a restart: a new consumer of the group resumes after them. */
export const resumeFromCommittedOffset: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_resume");
  const group = uniqueName("E2E_resume_cg");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const firstIds = new Set<string>();
  for (let i = 0; i < 10; i++) firstIds.add((await producer.send({ topic, body: `first${i}` })).msgId);
  const got1 = new Set<string>();
  const first = consumerOf(ctx, group, { handler: (m) => void got1.add(m.msgId) }).subscribe(topic, "*");
  await first.start();
  await waitFor(() => [...firstIds].every((id) => got1.has(id)), 15_000, "the first 10");
  await first.shutdown();

  const secondIds = new Set<string>();
  for (let i = 0; i < 10; i++) secondIds.add((await producer.send({ topic, body: `second${i}` })).msgId);
  const got2 = new Set<string>();
  await using second = consumerOf(ctx, group, {
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
    handler: (m) => void got2.add(m.msgId),
  }).subscribe(topic, "*");
  await second.start();
  await waitFor(() => [...secondIds].every((id) => got2.has(id)), 15_000, "the next 10");
  await new Promise((resolve) => setTimeout(resolve, 300));
  const replayed = [...firstIds].filter((id) => got2.has(id));
  assert.deepEqual(replayed, [], "nothing committed is consumed again");
};

/**
 * SEARCH_OFFSET_BY_TIMESTAMP finds the first message stored at or after a time. (A push consumer
 * with CONSUME_FROM_TIMESTAMP uses it only when the broker has no offset for the group, and a
 * 4.9.x broker answers 0 instead of "none" for young queues, so a new group on a young topic
 * starts from 0 whatever consumeFromWhere says: Java behaves the same.)
 */
export const searchOffsetByTimestamp: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_ts");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const queue = (await producer.queuesOf(topic))[0];
  for (let i = 0; i < 5; i++) await producer.send({ topic, body: `old${i}` }, { queue });
  // A 4.9.x broker answers the nearer neighbour when no message has the exact time: stay close to "new".
  await new Promise((resolve) => setTimeout(resolve, 500));
  const boundary = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const fresh = await producer.send({ topic, body: "new" }, { queue });
  await using consumer = new LitePullConsumer({ ...base(ctx), group: uniqueName("E2E_ts_cg"), autoCommit: false });
  consumer.assign([queue]);
  await consumer.start();
  assert.equal(await consumer.offsetForTimestamp(queue, boundary), fresh.queueOffset);
  await consumer.seek(queue, await consumer.offsetForTimestamp(queue, boundary));
  const batch = await consumer.poll(5000);
  assert.equal(batch[0]?.text, "new");
};

/** Lite pull: assign, poll, seek back, commit, and read the committed offset from a new client. */
export const litePull: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_lite");
  const group = uniqueName("E2E_lite_cg");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const queue = (await producer.queuesOf(topic))[0];
  for (let i = 0; i < 12; i++) await producer.send({ topic, body: `l${i}` }, { queue });
  const consumer = new LitePullConsumer({
    ...base(ctx),
    group,
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
    autoCommit: false,
    pullBatchSize: 5,
  });
  let end = -1;
  try {
    consumer.assign([queue]);
    await consumer.start();
    const polled: ReceivedMessage[] = [];
    const deadline = Date.now() + 15_000;
    while (polled.filter((m) => m.text.startsWith("l")).length < 12 && Date.now() < deadline) {
      const batch = await consumer.poll(1000);
      assert.ok(batch.length <= 5);
      polled.push(...batch);
    }
    const bodies = polled.map((m) => m.text).filter((t) => t.startsWith("l"));
    assert.deepEqual(bodies, Array.from({ length: 12 }, (_, i) => `l${i}`));
    end = polled[polled.length - 1].queueOffset + 1;

    await consumer.seek(queue, end - 3);
    const again: ReceivedMessage[] = [];
    while (again.length < 3 && Date.now() < deadline) again.push(...await consumer.poll(1000));
    assert.deepEqual(again.map((m) => m.text), ["l9", "l10", "l11"]);
    await assert.rejects(consumer.seek(queue, end + 100), RangeError);

    await consumer.commit();
    assert.equal(await consumer.committed(queue), end);
  } finally {
    await consumer.shutdown();
  }
  await using other = new LitePullConsumer({ ...base(ctx), group, autoCommit: false });
  other.assign([queue]);
  await other.start();
  assert.equal(await other.committed(queue), end, "a new client of the group sees the committed offset");

  // Subscribe mode, iterating.
  await using subscriber = new LitePullConsumer({
    ...base(ctx),
    group: uniqueName("E2E_lite_sub"),
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
  });
  subscriber.subscribe(topic, "*");
  await subscriber.start();
  const seen = new Set<string>();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  for await (const message of subscriber.messages({ signal: controller.signal })) {
    seen.add(message.text);
    if ([...Array(12).keys()].every((i) => seen.has(`l${i}`))) break;
  }
  clearTimeout(timer);
  assert.equal([...seen].filter((t) => t.startsWith("l")).length, 12);
};

/** Broker-initiated calls: running info (307), consume directly (309), reset offset (222 → 220). */
export const brokerInitiatedRequests: E2eScenario = async (ctx) => {
  const topic = uniqueName("E2E_admin");
  const group = uniqueName("E2E_admin_cg");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const results: SendResult[] = [];
  for (let i = 0; i < 5; i++) results.push(await producer.send({ topic, body: `a${i}` }));
  const deliveries: string[] = [];
  await using consumer = consumerOf(ctx, group, { handler: (m) => void deliveries.push(m.text) }).subscribe(topic, "*");
  await consumer.start();
  await waitFor(() => deliveries.filter((t) => t.startsWith("a")).length >= 5, 15_000, "5 messages");

  const brokerAddr = await brokerOf(ctx, topic);
  const admin = new RemotingClient();
  try {
    const info = await admin.invoke(
      brokerAddr,
      createRequest(RequestCode.GET_CONSUMER_RUNNING_INFO, {
        consumerGroup: group,
        clientId: consumer.clientId,
        jstackEnable: "false",
      }),
      5000,
    );
    assert.equal(info.code, ResponseCode.SUCCESS, info.remark);
    const body = decodeJsonBody(info.body, "running info") as Record<string, unknown>;
    assert.ok(body.mqTable instanceof Map, "mqTable has MessageQueue object keys");
    assert.equal((body.properties as Record<string, string>).PROP_CONSUME_TYPE, "CONSUME_PASSIVELY");
    assert.ok(Array.isArray(body.subscriptionSet));

    const direct = await admin.invoke(
      brokerAddr,
      createRequest(RequestCode.CONSUME_MESSAGE_DIRECTLY, {
        consumerGroup: group,
        clientId: consumer.clientId,
        msgId: results[0].offsetMsgId,
      }),
      5000,
    );
    assert.equal(direct.code, ResponseCode.SUCCESS, direct.remark);
    const directBody = parseFastJson(new TextDecoder().decode(direct.body)) as Record<string, unknown>;
    assert.equal(directBody.consumeResult, "CR_SUCCESS");
    assert.equal(deliveries.filter((t) => t === "a0").length, 2, "consumed directly once more");

    // The broker resets only a group with a committed offset on every queue (commits run every second here).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = deliveries.length;
    const reset = await admin.invoke(
      brokerAddr,
      createRequest(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic, group, timestamp: "0", isForce: "true" }),
      5000,
    );
    assert.equal(reset.code, ResponseCode.SUCCESS, reset.remark);
    await waitFor(
      () => deliveries.slice(before).filter((t) => t.startsWith("a")).length >= 5,
      20_000,
      "redelivery after resetting offsets to the beginning",
    );
  } finally {
    await admin.close();
  }
};

/** The master address serving `topic`, asked from the NameServer as an admin tool would. */
async function brokerOf(ctx: E2eContext, topic: string): Promise<string> {
  const admin = new RemotingClient();
  try {
    const response = await admin.invoke(
      ctx.nameServer.split(";")[0],
      createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }),
    );
    assert.equal(response.code, ResponseCode.SUCCESS, response.remark);
    const route = readTopicRouteData(decodeJsonBody(response.body, "route"));
    const addr = route.brokerDatas[0]?.brokerAddrs.get(0);
    assert.ok(addr, `topic ${topic} has a master`);
    return addr;
  } finally {
    await admin.close();
  }
}

/** A NameServer list whose first entry is dead still works. */
export const nameServerFailover: E2eScenario = async (ctx) => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dead = `127.0.0.1:${(probe.addr as Deno.NetAddr).port}`;
  probe.close();
  const topic = uniqueName("E2E_failover");
  await using producer = producerOf({ ...ctx, nameServer: `${dead};${ctx.nameServer}` });
  const result = await producer.send({ topic, body: "via the second NameServer" });
  assert.equal(result.status, "SEND_OK");
};

/**
 * Restarting the broker mid-stream loses nothing acknowledged, and the consumer resumes from its
 * committed offset.
 */
export const brokerRestartLosesNothing: E2eScenario = async (ctx) => {
  if (!ctx.restartBroker) throw new Error("brokerRestartLosesNothing needs ctx.restartBroker");
  const topic = uniqueName("E2E_restart");
  await using producer = producerOf(ctx, { sendTimeoutMs: 3000 });
  await createTopic(ctx, producer, topic);
  const acked = new Set<string>();
  const received = new Set<string>();
  await using consumer = consumerOf(ctx, uniqueName("E2E_restart_cg"), {
    handler: (m) => void received.add(m.msgId),
    pullDelayOnErrorMs: 500,
  }).subscribe(topic, "*");
  await consumer.start();
  let stop = false;
  const sending = (async () => {
    let i = 0;
    while (!stop) {
      try {
        acked.add((await producer.send({ topic, body: `r${i++}` })).msgId);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  })();
  await waitFor(() => acked.size >= 50, 15_000, "50 acknowledged sends before the restart");
  await ctx.restartBroker();
  const after = acked.size;
  await waitFor(() => acked.size >= after + 50, 60_000, "50 acknowledged sends after the restart");
  stop = true;
  await sending;
  await waitFor(() => [...acked].every((id) => received.has(id)), 60_000, `all ${acked.size} acknowledged messages`);
};

async function runAliOnsPeer(args: string[]): Promise<Record<string, Array<Record<string, unknown>>>> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_ali_ons_peer.ts", import.meta.url).pathname, ...args],
    cwd: new URL("../", import.meta.url).pathname, // deno.json maps "ali-ons"
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout).trim();
  assert.equal(code, 0, `ali-ons peer failed: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(text.split("\n").at(-1)!);
}

/**
 * Interop with the real `ali-ons@3.12.0` client, both ways: our producer → ali-ons consumer and
 * ali-ons producer → our consumer, with the same bodies (one compressed), keys, tags and
 * properties.
 */
export const aliOnsInterop: E2eScenario = async (ctx) => {
  const nameServer = ctx.nameServer.split(";").at(-1)!;
  const topic = uniqueName("E2E_ons");
  await using producer = producerOf(ctx);
  await createTopic(ctx, producer, topic);
  const ours = new Map<string, { body: string; key: string }>();
  for (let i = 0; i < 6; i++) {
    const body = i === 2 ? `compressed ✓ ${"y".repeat(6000)}` : `from denomq #${i} ✓`;
    const result = await producer.send({
      topic,
      body,
      tags: "TagA",
      keys: [`ours-${i}`, "common"],
      properties: { index: String(i), origin: "denomq" },
    });
    ours.set(result.msgId, { body, key: `ours-${i}` });
  }
  await producer.send({ topic, body: "filtered out", tags: "TagB" });
  const consumed = await runAliOnsPeer(["consume", nameServer, topic, uniqueName("E2E_ons_cg"), String(ours.size)]);
  const byId = new Map(consumed.received.map((m) => [m.uniqKey as string, m]));
  for (const [msgId, expected] of ours) {
    const got = byId.get(msgId);
    assert.ok(got, `ali-ons received ${msgId}`);
    assert.equal(got.body, expected.body);
    assert.equal(got.keys, `${expected.key} common`);
    assert.equal(got.tags, "TagA");
    assert.deepEqual(got.properties, { index: expected.key.slice(5), origin: "denomq" });
  }

  const topic2 = uniqueName("E2E_ons_in");
  await createTopic(ctx, producer, topic2);
  const produced = await runAliOnsPeer(["produce", nameServer, topic2, "5"]);
  const received = new Map<string, ReceivedMessage>();
  await using consumer = consumerOf(ctx, uniqueName("E2E_ons_in_cg"), {
    handler: (m) => void received.set(m.offsetMsgId, m),
  }).subscribe(topic2, "TagA");
  await consumer.start();
  await waitFor(() => produced.sent.every((s) => received.has(s.msgId as string)), 15_000, "ali-ons messages");
  for (const sent of produced.sent) {
    assert.equal(sent.status, "SEND_OK");
    const message = received.get(sent.msgId as string)!;
    assert.equal(message.text, sent.body);
    assert.deepEqual(message.keys, [sent.key, "common"]);
    assert.equal(message.tags, "TagA");
    assert.equal(message.userProperties.index, (sent.key as string).slice(2));
  }
};

/** Every scenario that needs nothing but a NameServer, by name. */
export const SCENARIOS: Record<string, E2eScenario> = {
  produceAndConsume,
  batchAndDelay,
  orderlyConsumption,
  clusteringSplitAndTakeover,
  broadcasting,
  retryThenDeadLetter,
  iteratorWithNack,
  resumeFromCommittedOffset,
  searchOffsetByTimestamp,
  litePull,
  brokerInitiatedRequests,
  nameServerFailover,
  aliOnsInterop,
};
