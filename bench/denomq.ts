/**
 * The denomq side of `deno task bench`: produce, consume, e2e and latency, driven by our own
 * client (`client/`) against a NameServer address. Each returns one {@linkcode BenchRow}.
 *
 * - produce: `producers` producers, each keeping `inflight` sends outstanding
 *   (`Producer.sendAsync`), `size`-byte bodies, a topic with `queues` queues; `warmup` messages
 *   first (not measured: the JIT warms up), then `messages` measured.
 * - consume: a backlog of `messages` is written first, then a fresh group drains it from the
 *   first offset with a `PushConsumer` (`pullBatch` messages per pull).
 * - e2e: a consumer tails the topic while a producer sends at full window; latency is from the
 *   send time written into each body (and, with ms resolution, from the store timestamp).
 * - latency: one producer, one message at a time (`send()` awaited), unloaded.
 *
 * @module
 */

import { PushConsumer } from "../client/consumer.ts";
import { LitePullConsumer } from "../client/lite_pull_consumer.ts";
import { silentLogger } from "../client/_log.ts";
import type { ReceivedMessage } from "../client/message.ts";
import { Producer } from "../client/producer.ts";
import { RemotingClient } from "../client/remoting_client.ts";
import { createRequest, SerializeType } from "../protocol/command.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { AdminOps, nameServerSource } from "../ops/admin_ops.ts";
import { remoteInvoker } from "../ops/invoker.ts";
import type { BenchCluster } from "./_cluster.ts";
import { type BenchRow, Progress, status } from "./_report.ts";
import { cpuBetween, LatencyHistogram, sampleProcess } from "./_stats.ts";

/** Workload shape shared by the scenarios (and by the peers). */
export interface Workload {
  /** Measured messages. */
  messages: number;
  /** Unmeasured messages sent first (JIT warm-up). */
  warmup: number;
  /** Body bytes. */
  size: number;
  /** Sends in flight per producer. */
  inflight: number;
  producers: number;
  /** Queues of the topic. */
  queues: number;
  /** Messages per pull (consume, e2e). */
  pullBatch: number;
  /** Messages of the latency scenario. */
  latencyMessages: number;
  /**
   * Consumer of the consume and e2e scenarios: `lite` (LitePullConsumer.poll), `push`
   * (PushConsumer), or `raw` (consume only: PULL_MESSAGE from this bench, records counted, not
   * decoded — the broker's own capacity, as the peers' raw clients show theirs).
   */
  consumer: "push" | "lite" | "raw";
}

const ADMIN_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 120_000;
/** Wall-clock bound of one consume drain with no progress: a stuck consumer fails the run. */
const STALL_TIMEOUT_MS = 30_000;

function label(cluster: BenchCluster): string {
  return cluster.flushDiskType ?? `running cluster ${cluster.namesrvAddr}`;
}

/** Creates `topic` with `queues` queues on every master. */
async function createTopic(namesrvAddr: string, topic: string, queues: number): Promise<void> {
  const client = new RemotingClient({ timeoutMs: ADMIN_TIMEOUT_MS });
  try {
    const invoker = remoteInvoker(client);
    const ops = new AdminOps({
      invoker,
      source: nameServerSource(invoker, namesrvAddr.split(";"), ADMIN_TIMEOUT_MS),
      timeoutMs: ADMIN_TIMEOUT_MS,
    });
    const masters = await ops.masters();
    if (masters.length === 0) throw new Error(`No broker is registered with ${namesrvAddr}`);
    for (const m of masters) {
      await ops.createTopic({ topic, brokerAddr: m.addr, readQueueNums: queues, writeQueueNums: queues });
    }
  } finally {
    await client.close();
  }
}

function bodyOf(size: number): Uint8Array {
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = 97 + (i % 26);
  return body;
}

function newProducer(namesrvAddr: string, index: number, inflight: number): Producer {
  return new Producer({
    nameServer: namesrvAddr,
    group: "BenchProducerGroup",
    instanceName: `bench-${Deno.pid}-${index}`,
    producerInflightMax: inflight,
    logger: silentLogger,
    // A bench message is never large enough to be compressed; say so, so bodies are sent as they are.
    compressBodyOverBytes: 64 * 1024 * 1024,
  });
}

interface SendLoopResult {
  errors: number;
  lastError: string;
}

/**
 * Sends `count` messages from each producer with `sendAsync` (at most `inflight` outstanding per
 * producer) and waits for every answer. `onAck` sees each successful answer's latency.
 */
async function sendLoop(
  producers: Producer[],
  topic: string,
  count: number,
  body: (i: number) => Uint8Array,
  onAck: (latencyMs: number, bytes: number) => void,
): Promise<SendLoopResult> {
  const result = { errors: 0, lastError: "" };
  const perProducer = Math.ceil(count / producers.length);
  await Promise.all(producers.map(async (producer, p) => {
    const n = Math.min(perProducer, count - p * perProducer);
    let pending = 0;
    let allSent = false;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => resolveDone = resolve);
    for (let i = 0; i < n; i++) {
      const b = body(p * perProducer + i);
      const started = performance.now();
      pending++;
      await producer.sendAsync({ topic, body: b, tags: "bench" }, (error) => {
        pending--;
        if (error) {
          result.errors++;
          result.lastError = error.message;
        } else {
          onAck(performance.now() - started, b.length);
        }
        if (allSent && pending === 0) resolveDone();
      });
    }
    allSent = true;
    if (pending === 0) resolveDone();
    await done;
  }));
  return result;
}

function topicName(scenario: string): string {
  return `Bench_${scenario}_${Date.now().toString(36)}`;
}

/** The produce scenario. */
export async function benchProduce(cluster: BenchCluster, w: Workload): Promise<BenchRow> {
  const topic = topicName("produce");
  await createTopic(cluster.namesrvAddr, topic, w.queues);
  const producers = Array.from({ length: w.producers }, (_, i) => newProducer(cluster.namesrvAddr, i, w.inflight));
  const body = bodyOf(w.size);
  const histogram = new LatencyHistogram();
  let acked = 0;
  let bytes = 0;
  try {
    await Promise.all(producers.map((p) => p.send({ topic, body, tags: "bench" }))); // routes, connections
    if (w.warmup > 0) {
      status(`denomq ${label(cluster)}: produce warm-up, ${w.warmup.toLocaleString("en-US")} messages`);
      await sendLoop(producers, topic, w.warmup, () => body, () => {});
    }
    const progress = new Progress(`denomq produce ${label(cluster)}`, () => ({
      count: acked,
      bytes,
      p99Ms: histogram.percentile(0.99),
    }));
    const serverBefore = cluster.sample();
    const clientBefore = sampleProcess("self");
    const started = performance.now();
    const { errors, lastError } = await sendLoop(producers, topic, w.messages, () => body, (ms, b) => {
      histogram.record(ms);
      acked++;
      bytes += b;
    });
    const seconds = (performance.now() - started) / 1000;
    progress.stop();
    const server = cpuBetween(serverBefore, cluster.sample(), acked);
    return {
      system: "denomq",
      scenario: "produce",
      mode: label(cluster),
      client: `denomq client, ${w.producers}×${w.inflight} in flight`,
      messages: acked,
      seconds,
      msgsPerSec: acked / seconds,
      mbPerSec: bytes / seconds / 1e6,
      p50Ms: histogram.percentile(0.5),
      p99Ms: histogram.percentile(0.99),
      maxMs: histogram.maxMs,
      serverCpuUsPerMsg: server?.cpuUsPerMsg,
      serverCpuPercent: server?.cpuPercent,
      serverRssMiB: cluster.sample()?.rssMiB,
      clientCpuUsPerMsg: cpuBetween(clientBefore, sampleProcess("self"), acked)?.cpuUsPerMsg,
      errors,
      note: lastError ? `last error: ${lastError}` : undefined,
    };
  } finally {
    await Promise.all(producers.map((p) => p.shutdown()));
  }
}

/** The latency scenario: one message at a time. */
export async function benchLatency(cluster: BenchCluster, w: Workload): Promise<BenchRow> {
  const topic = topicName("latency");
  await createTopic(cluster.namesrvAddr, topic, w.queues);
  const producer = newProducer(cluster.namesrvAddr, 0, 1);
  const body = bodyOf(w.size);
  const histogram = new LatencyHistogram();
  let errors = 0;
  let lastError = "";
  try {
    await producer.send({ topic, body, tags: "bench" });
    const warmup = Math.min(w.warmup, Math.max(1000, Math.floor(w.latencyMessages / 4)));
    for (let i = 0; i < warmup; i++) await producer.send({ topic, body, tags: "bench" });
    const progress = new Progress(`denomq latency ${label(cluster)}`, () => ({
      count: histogram.count,
      bytes: histogram.count * w.size,
      p99Ms: histogram.percentile(0.99),
    }));
    const serverBefore = cluster.sample();
    const started = performance.now();
    for (let i = 0; i < w.latencyMessages; i++) {
      const t = performance.now();
      try {
        await producer.send({ topic, body, tags: "bench" });
        histogram.record(performance.now() - t);
      } catch (error) {
        errors++;
        lastError = (error as Error).message;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    progress.stop();
    const n = histogram.count;
    return {
      system: "denomq",
      scenario: "latency",
      mode: label(cluster),
      client: "denomq client, window 1",
      messages: n,
      seconds,
      msgsPerSec: n / seconds,
      mbPerSec: (n * w.size) / seconds / 1e6,
      p50Ms: histogram.percentile(0.5),
      p99Ms: histogram.percentile(0.99),
      maxMs: histogram.maxMs,
      serverCpuUsPerMsg: cpuBetween(serverBefore, cluster.sample(), n)?.cpuUsPerMsg,
      serverRssMiB: cluster.sample()?.rssMiB,
      errors,
      note: lastError ? `last error: ${lastError}` : undefined,
    };
  } finally {
    await producer.shutdown();
  }
}

/** Fills `topic` with `count` messages as fast as the producers go (not measured). */
async function fillBacklog(cluster: BenchCluster, topic: string, w: Workload, count: number): Promise<void> {
  const producers = Array.from({ length: w.producers }, (_, i) => newProducer(cluster.namesrvAddr, i, w.inflight));
  const body = bodyOf(w.size);
  let acked = 0;
  const progress = new Progress(
    `denomq fill backlog ${label(cluster)}`,
    () => ({ count: acked, bytes: acked * w.size }),
  );
  try {
    const { errors, lastError } = await sendLoop(producers, topic, count, () => body, () => acked++);
    if (errors > 0) throw new Error(`Cannot fill the backlog: ${errors} sends failed, last: ${lastError}`);
  } finally {
    progress.stop();
    await Promise.all(producers.map((p) => p.shutdown()));
  }
}

interface Drain {
  received: number;
  bytes: number;
  firstAtMs: number;
  lastAtMs: number;
}

/** A running bench consumer. */
interface BenchConsumer {
  shutdown(): Promise<void>;
}

/**
 * Starts a consumer of a fresh group on `topic` (a PushConsumer with a handler, or a
 * LitePullConsumer polled in a loop); `onMessage` sees every message. Resolves once it is started.
 */
async function startConsumer(
  cluster: BenchCluster,
  topic: string,
  w: Workload,
  fromFirst: boolean,
  onMessage: (message: ReceivedMessage) => void,
): Promise<BenchConsumer> {
  const common = {
    nameServer: cluster.namesrvAddr,
    group: `BenchConsumer_${Date.now().toString(36)}`,
    instanceName: `bench-consumer-${Deno.pid}`,
    consumeFromWhere: fromFirst ? "CONSUME_FROM_FIRST_OFFSET" as const : "CONSUME_FROM_LAST_OFFSET" as const,
    pullBatchSize: w.pullBatch,
    pullThresholdForQueue: Math.max(1000, w.pullBatch * 4),
    logger: silentLogger,
  };
  if (w.consumer === "raw") return await startRawConsumer(cluster, topic, w, fromFirst, onMessage);
  if (w.consumer === "lite") {
    const consumer = new LitePullConsumer({ ...common, pullThresholdForAll: Math.max(10_000, w.pullBatch * 16) });
    consumer.subscribe(topic, "*");
    await consumer.start();
    let running = true;
    const loop = (async () => {
      while (running) {
        const batch = await consumer.poll(200);
        for (let i = 0; i < batch.length; i++) onMessage(batch[i]);
      }
    })();
    return {
      async shutdown() {
        running = false;
        await loop;
        await consumer.shutdown();
      },
    };
  }
  const consumer = new PushConsumer({
    ...common,
    consumeConcurrency: 64,
    consumeConcurrentlyMaxSpan: Math.max(2000, w.pullBatch * 8),
    handler: (message) => onMessage(message),
  });
  consumer.subscribe(topic, "*");
  await consumer.start();
  return consumer;
}

/** What the raw consumer hands on: no message object, only the body length. */
const RAW_MESSAGE = { body: { length: 0 } } as unknown as ReceivedMessage;

/**
 * Pulls every queue of `topic` with PULL_MESSAGE (`pullBatch` per request, one request in flight
 * per queue, binary headers) and walks the records by their size field without decoding them.
 */
async function startRawConsumer(
  cluster: BenchCluster,
  topic: string,
  w: Workload,
  fromFirst: boolean,
  onMessage: (message: ReceivedMessage) => void,
): Promise<BenchConsumer> {
  if (!fromFirst) throw new TypeError("The raw consumer drains a backlog (consume scenario) only");
  const client = new RemotingClient({ timeoutMs: ADMIN_TIMEOUT_MS, serializeType: SerializeType.ROCKETMQ });
  const invoker = remoteInvoker(client);
  const ops = new AdminOps({
    invoker,
    source: nameServerSource(invoker, cluster.namesrvAddr.split(";"), ADMIN_TIMEOUT_MS),
    timeoutMs: ADMIN_TIMEOUT_MS,
  });
  const route = await ops.topicRoute(topic);
  const group = `BenchRawConsumer_${Date.now().toString(36)}`;
  let running = true;
  const loops = route.queueDatas.flatMap((q) => {
    const addr = route.brokerDatas.find((b) => b.brokerName === q.brokerName)?.brokerAddrs.get(0);
    if (!addr) return [];
    return Array.from({ length: q.readQueueNums }, async (_, queueId) => {
      let queueOffset = 0;
      while (running) {
        const response = await client.invoke(
          addr,
          createRequest(RequestCode.PULL_MESSAGE, {
            consumerGroup: group,
            topic,
            queueId: String(queueId),
            queueOffset: String(queueOffset),
            maxMsgNums: String(w.pullBatch),
            sysFlag: "6", // SUSPEND | SUBSCRIPTION: no heartbeat needed
            commitOffset: "0",
            suspendTimeoutMillis: "200",
            subscription: "*",
            subVersion: "0",
            expressionType: "TAG",
          }),
          ADMIN_TIMEOUT_MS,
        );
        queueOffset = Number(response.extFields.nextBeginOffset ?? queueOffset);
        const body = response.code === 0 ? response.body : undefined;
        if (!body) continue;
        const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
        for (let pos = 0; pos < body.length; pos += view.getInt32(pos)) onMessage(RAW_MESSAGE);
      }
    });
  });
  return {
    async shutdown() {
      running = false;
      await Promise.allSettled(loops);
      await client.close();
    },
  };
}

function consumerName(w: Workload): string {
  if (w.consumer === "raw") return `raw PULL_MESSAGE, records counted, ${w.pullBatch}/pull`;
  return w.consumer === "lite"
    ? `denomq LitePullConsumer, ${w.pullBatch}/pull`
    : `denomq PushConsumer, ${w.pullBatch}/pull`;
}

async function waitFor(condition: () => boolean, progressOf: () => number, what: string): Promise<void> {
  let last = progressOf();
  let lastChangeMs = performance.now();
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (!condition()) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const now = performance.now();
    const current = progressOf();
    if (current !== last) {
      last = current;
      lastChangeMs = now;
    }
    if (now - lastChangeMs > STALL_TIMEOUT_MS || now > deadline) {
      throw new Error(`${what}: no progress for ${Math.round((now - lastChangeMs) / 1000)} s at ${current}`);
    }
  }
}

/** The consume scenario: drain a pre-filled backlog. */
export async function benchConsume(cluster: BenchCluster, w: Workload): Promise<BenchRow> {
  const topic = topicName("consume");
  await createTopic(cluster.namesrvAddr, topic, w.queues);
  const total = w.messages + w.warmup;
  status(`denomq ${label(cluster)}: filling a backlog of ${total.toLocaleString("en-US")} messages`);
  await fillBacklog(cluster, topic, w, total);
  const drain: Drain = { received: 0, bytes: 0, firstAtMs: 0, lastAtMs: 0 };
  // The first `warmup` messages warm the consumer up; the clock runs from the next one.
  let measuredFrom = 0;
  let serverBefore = cluster.sample();
  let clientBefore = sampleProcess("self");
  const progress = new Progress(
    `denomq consume ${label(cluster)}`,
    () => ({ count: drain.received, bytes: drain.bytes }),
  );
  const consumer = await startConsumer(cluster, topic, w, true, () => {
    drain.received++;
    drain.bytes += w.size;
    if (drain.received === w.warmup) {
      measuredFrom = drain.received;
      drain.firstAtMs = performance.now();
      serverBefore = cluster.sample();
      clientBefore = sampleProcess("self");
    }
    drain.lastAtMs = performance.now();
  });
  if (w.warmup === 0) drain.firstAtMs = performance.now();
  try {
    await waitFor(() => drain.received >= total, () => drain.received, "Consume");
  } finally {
    progress.stop();
    await consumer.shutdown();
  }
  const measured = drain.received - measuredFrom;
  const seconds = (drain.lastAtMs - drain.firstAtMs) / 1000;
  return {
    system: "denomq",
    scenario: "consume",
    mode: label(cluster),
    client: consumerName(w),
    messages: measured,
    seconds,
    msgsPerSec: measured / seconds,
    mbPerSec: (measured * w.size) / seconds / 1e6,
    serverCpuUsPerMsg: cpuBetween(serverBefore, cluster.sample(), measured)?.cpuUsPerMsg,
    serverRssMiB: cluster.sample()?.rssMiB,
    clientCpuUsPerMsg: cpuBetween(clientBefore, sampleProcess("self"), measured)?.cpuUsPerMsg,
    errors: 0,
  };
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable across processes. */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The e2e scenario: produce and consume at once; latency from send (and store) to receipt. */
export async function benchE2e(cluster: BenchCluster, workload: Workload): Promise<BenchRow> {
  // The raw consumer only drains backlogs: e2e tails the topic with the lite pull consumer then.
  const w: Workload = workload.consumer === "raw" ? { ...workload, consumer: "lite" } : workload;
  const topic = topicName("e2e");
  await createTopic(cluster.namesrvAddr, topic, w.queues);
  const fromSend = new LatencyHistogram();
  const fromStore = new LatencyHistogram();
  let received = 0;
  let measuring = false;
  let bytes = 0;
  const consumer = await startConsumer(cluster, topic, w, false, (message) => {
    received++;
    if (!measuring) return;
    const now = epochMs();
    const view = new DataView(message.body.buffer, message.body.byteOffset, 8);
    fromSend.record(now - view.getFloat64(0));
    fromStore.record(Math.max(0, now - message.storeTimestamp));
    bytes += message.body.length;
  });
  const producers = Array.from({ length: w.producers }, (_, i) => newProducer(cluster.namesrvAddr, i, w.inflight));
  const template = bodyOf(w.size);
  const stamped = () => {
    const body = template.slice();
    new DataView(body.buffer).setFloat64(0, epochMs());
    return body;
  };
  try {
    await Promise.all(producers.map((p) => p.send({ topic, body: stamped(), tags: "bench" })));
    // Wait until the consumer owns its queues (it then starts from the last offset).
    await waitFor(() => received >= 1, () => received, "Consumer start");
    if (w.warmup > 0) {
      status(`denomq ${label(cluster)}: e2e warm-up, ${w.warmup.toLocaleString("en-US")} messages`);
      const target = received + w.warmup;
      await sendLoop(producers, topic, w.warmup, stamped, () => {});
      await waitFor(() => received >= target, () => received, "E2E warm-up");
    }
    measuring = true;
    const target = received + w.messages;
    const progress = new Progress(`denomq e2e ${label(cluster)}`, () => ({
      count: fromSend.count,
      bytes,
      p99Ms: fromSend.percentile(0.99),
    }));
    const serverBefore = cluster.sample();
    const started = performance.now();
    const { errors, lastError } = await sendLoop(producers, topic, w.messages, stamped, () => {});
    try {
      await waitFor(() => received >= target, () => received, "E2E");
    } finally {
      progress.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    const n = fromSend.count;
    return {
      system: "denomq",
      scenario: "e2e",
      mode: label(cluster),
      client: `denomq client ${w.producers}×${w.inflight} + ${
        w.consumer === "lite" ? "LitePullConsumer" : "PushConsumer"
      }`,
      messages: n,
      seconds,
      msgsPerSec: n / seconds,
      mbPerSec: bytes / seconds / 1e6,
      p50Ms: fromSend.percentile(0.5),
      p99Ms: fromSend.percentile(0.99),
      maxMs: fromSend.maxMs,
      serverCpuUsPerMsg: cpuBetween(serverBefore, cluster.sample(), n)?.cpuUsPerMsg,
      serverRssMiB: cluster.sample()?.rssMiB,
      errors,
      note: `from store timestamp (ms clock): p50 ${fromStore.percentile(0.5).toFixed(0)} ms, p99 ${
        fromStore.percentile(0.99).toFixed(0)
      } ms${lastError ? `; last error: ${lastError}` : ""}`,
    };
  } finally {
    await Promise.all(producers.map((p) => p.shutdown()));
    await consumer.shutdown();
  }
}
