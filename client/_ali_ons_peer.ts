/**
 * The other side of the interop scenario: the real `ali-ons@3.12.0` client, run as a child
 * process (it leaves timers running, so it prints one JSON line and exits).
 *
 * ```sh
 * deno run -A client/_ali_ons_peer.ts consume <namesrv> <topic> <group> <count>
 * deno run -A client/_ali_ons_peer.ts produce <namesrv> <topic> <count>
 * ```
 *
 * `consume` prints the messages it received (body, keys, tags, user properties, offset id);
 * `produce` sends `count` messages (tag `TagA`, keys `k-<i> common`, property `index`, one body
 * over 4 KiB so ali-ons compresses it) and prints their ids. Test-only.
 *
 * @module
 */

import ons from "ali-ons";

interface OnsMessage {
  body: Uint8Array;
  keys: string;
  tags: string;
  msgId: string;
  properties: Record<string, string>;
}

const SYSTEM = new Set([
  "KEYS",
  "TAGS",
  "WAIT",
  "UNIQ_KEY",
  "MIN_OFFSET",
  "MAX_OFFSET",
  "CLUSTER",
  "CONSUME_START_TIME",
]);
const [mode, nameSrv, topic, ...rest] = Deno.args;
const shared = { nameSrv, httpclient: {}, clientIP: "127.0.0.1" };
const { Producer, Consumer, Message } = ons;

/** The body ali-ons producer sends for index `i` (exported through the JSON for checking). */
function bodyOf(i: number): string {
  return i === 3 ? `big ✓ ${"z".repeat(6000)}` : `from ali-ons #${i} ✓`;
}

if (mode === "consume") {
  const [group, countText] = rest;
  const count = Number(countText);
  const received: Array<Record<string, unknown>> = [];
  const consumer = new Consumer({ ...shared, consumerGroup: group, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
  consumer.on("error", () => {}); // 17 for %RETRY% before it exists, 22 for a new group: expected
  // ali-ons calls the handler with `await` and insists on an async function.
  // deno-lint-ignore require-await
  consumer.subscribe(topic, "TagA", async (msg: OnsMessage) => {
    const properties: Record<string, string> = {};
    for (const [name, value] of Object.entries(msg.properties)) if (!SYSTEM.has(name)) properties[name] = value;
    received.push({
      msgId: msg.msgId,
      uniqKey: msg.properties.UNIQ_KEY,
      body: new TextDecoder().decode(msg.body),
      keys: msg.keys,
      tags: msg.tags,
      properties,
    });
  });
  await consumer.ready();
  const deadline = Date.now() + 30_000;
  while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  console.log(JSON.stringify({ received }));
  Deno.exit(0);
} else if (mode === "produce") {
  const count = Number(rest[0]);
  const producer = new Producer({ ...shared, producerGroup: "ali-ons-interop-producer" });
  producer.on("error", () => {});
  await producer.ready();
  const sent: Array<Record<string, unknown>> = [];
  for (let i = 0; i < count; i++) {
    const message = new Message(topic, "TagA", bodyOf(i));
    message.keys = [`k-${i}`, "common"];
    message.properties.index = String(i);
    const result = await producer.send(message);
    sent.push({ msgId: result.msgId, status: result.sendStatus, body: bodyOf(i), key: `k-${i}` });
  }
  console.log(JSON.stringify({ sent }));
  Deno.exit(0);
} else {
  console.error("usage: _ali_ons_peer.ts consume|produce <namesrv> <topic> …");
  Deno.exit(2);
}
