/**
 * ali-ons producer: look up `topic` on the NameServer and send one message to the broker its
 * route names. Prints one JSON line with the outcome (the broker may be a stand-in that never
 * answers: the point is which address the client connects to).
 *
 * Run: deno run -A tests/clients/ali_ons_send_once.ts <namesrv> <topic>
 */

import ons from "ali-ons";

const { Producer, Message } = ons;
const [nameSrv, topic] = Deno.args;
const producer = new Producer({
  nameSrv,
  httpclient: {},
  clientIP: "127.0.0.1",
  producerGroup: "ProbeProducer",
  sendMsgTimeout: 2000,
});
producer.on("error", () => {});
await producer.ready();
let outcome: Record<string, unknown>;
try {
  const result = await producer.send(new Message(topic, "TagA", "probe"));
  outcome = { ok: true, status: result.sendStatus };
} catch (error) {
  outcome = { ok: false, error: String((error as Error).message ?? error), code: (error as { code?: number }).code };
}
console.log(JSON.stringify(outcome));
Deno.exit(0);
