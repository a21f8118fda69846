/**
 * A real RocketMQ client (`ali-ons@3.12.0` from npm) against denomq: a producer sends N messages
 * with keys and a tag plus one message the consumer fails once; a cluster-mode consumer must see
 * every message with body, keys and tag intact, and the failed one again through the retry topic.
 *
 * Run: deno run -A tests/clients/ali_ons_roundtrip.ts <namesrv> <topic> <group> <count>
 * Prints one JSON line with what it saw, then exits (ali-ons leaves timers behind).
 */

import ons from "ali-ons";

const { Producer, Consumer, Message } = ons;
const [nameSrv, topic, group, countText] = Deno.args;
const count = Number(countText ?? 100);
const shared = { nameSrv, httpclient: {}, clientIP: "127.0.0.1" };
const received = new Map<string, { body: string; keys: string; tags: string; reconsumeTimes: number }>();
const failOnceKey = "fail-once";
const deliveries: { key: string; reconsumeTimes: number; retryTopic?: string; topic: string }[] = [];
let failed = false;

const consumer = new Consumer({
  ...shared,
  consumerGroup: group,
  consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
});
consumer.on("error", (err: { code?: number; message: string }) => {
  if (err.code !== 17 && err.code !== 22) console.error(`consumer event: ${err.code} ${err.message}`);
});
consumer.subscribe(
  topic,
  "TagA",
  // ali-ons requires an async handler (it awaits the returned promise).
  // deno-lint-ignore require-await
  async (
    msg: { keys: string; tags: string; body: Uint8Array; reconsumeTimes: number; topic: string; retryTopic?: string },
  ) => {
    const key = msg.keys;
    deliveries.push({ key, reconsumeTimes: msg.reconsumeTimes, retryTopic: msg.retryTopic, topic: msg.topic });
    if (key === failOnceKey && !failed) {
      failed = true;
      throw new Error("failing once on purpose");
    }
    received.set(key, {
      body: new TextDecoder().decode(msg.body),
      keys: msg.keys,
      tags: msg.tags,
      reconsumeTimes: msg.reconsumeTimes,
    });
  },
);
await consumer.ready();

const producer = new Producer({ ...shared, producerGroup: `${group}-producer` });
producer.on(
  "error",
  (err: { code?: number; message: string }) => console.error(`producer event: ${err.code} ${err.message}`),
);
await producer.ready();
const sent: { key: string; status: string; msgId: string }[] = [];
for (let n = 1; n <= count + 1; n++) {
  const key = n <= count ? `key-${n}` : failOnceKey;
  const message = new Message(topic, "TagA", `payload #${n} ✓`);
  message.keys = [key];
  const result = await producer.send(message);
  sent.push({ key, status: result.sendStatus, msgId: result.msgId });
}
// A message with another tag must be filtered out by the subscription.
const other = new Message(topic, "TagB", "not for this consumer");
other.keys = ["other-tag"];
await producer.send(other);

const deadline = Date.now() + 60_000;
while ((received.size < count + 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
await new Promise((r) => setTimeout(r, 500));
console.log(JSON.stringify({
  sent,
  received: Object.fromEntries(received),
  deliveries,
}));
Deno.exit(0);
