/**
 * Overload against a real broker: thousands of idle connections, a client that never reads its
 * replies, and a producer flood beyond the send lane. Memory must stay bounded, the flood must be
 * answered SYSTEM_BUSY rather than queued without bound, and other clients must stay served.
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { createRequest } from "../protocol/command.ts";
import { encodeFrame } from "../protocol/frame.ts";
import { toExtFields } from "../protocol/header.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { rssKb } from "../torture/fuzz.ts";
import { startCluster } from "./_process.ts";
import { createTopic, pull, sendV2 } from "./_wire.ts";

/** Idle connections opened at once (the CI machine allows 20,000 descriptors per process). */
const IDLE_CONNECTIONS = 5000;

async function roundTrip(client: RemotingClient, addr: string): Promise<number> {
  const t0 = performance.now();
  const sent = await sendV2(client, addr, { topic: "Load", queueId: 0, body: "ping" }, 10_000);
  assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark);
  return performance.now() - t0;
}

Deno.test("overload: idle connections, a client that never reads, and a send flood leave the broker bounded and responsive", async () => {
  const cluster = await startCluster({ sendConcurrencyMax: "8", sendThreadPoolQueueCapacity: "32" }, [
    "--http-port",
    "0",
  ]);
  const client = new RemotingClient({ timeoutMs: 10_000 });
  const addr = cluster.brokerAddr;
  const pid = cluster.broker.child.pid;
  const idle: Deno.Conn[] = [];
  let silent: Deno.Conn | undefined;
  try {
    await createTopic(client, addr, "Load", 2);
    await roundTrip(client, addr);
    const rssStart = rssKb(pid);

    // 1. Idle connections: memory per connection stays small.
    const [host, port] = [addr.slice(0, addr.lastIndexOf(":")), Number(addr.slice(addr.lastIndexOf(":") + 1))];
    for (let i = 0; i < IDLE_CONNECTIONS; i++) idle.push(await Deno.connect({ hostname: host, port }));
    await roundTrip(client, addr);
    const rssIdle = rssKb(pid);
    const perConnection = ((rssIdle - rssStart) * 1024) / IDLE_CONNECTIONS;
    assert.ok(perConnection < 32 * 1024, `${Math.round(perConnection)} bytes per idle connection`);

    // 2. A client that asks for large replies and never reads them: the broker stops reading
    // it once its outbound bytes pass 75 % of the cap, so its memory stays bounded.
    const big = new Uint8Array(200 * 1024).fill(1);
    for (let i = 0; i < 4; i++) {
      assert.equal((await sendV2(client, addr, { topic: "Load", queueId: 1, body: big })).code, 0);
    }
    silent = await Deno.connect({ hostname: host, port });
    const pullFrame = (opaque: number) => {
      const request = createRequest(
        RequestCode.PULL_MESSAGE,
        toExtFields({
          consumerGroup: "Silent",
          topic: "Load",
          queueId: 1,
          queueOffset: 0,
          maxMsgNums: 32,
          sysFlag: 4,
          commitOffset: 0,
          suspendTimeoutMillis: 0,
          subscription: "*",
          subVersion: 0,
        }),
      );
      request.opaque = opaque;
      return encodeFrame(request);
    };
    const writes = (async () => {
      for (let i = 0; i < 2000; i++) await silent!.write(pullFrame(i)); // stalls once the broker stops reading
    })().catch(() => {});
    await new Promise((r) => setTimeout(r, 1500));
    const rssSilent = rssKb(pid);
    assert.ok(rssSilent - rssIdle < 200 * 1024, `a non-reading client grew the broker by ${rssSilent - rssIdle} KiB`);
    const latency = await roundTrip(client, addr);
    assert.ok(latency < 2000, `others are still served (${latency.toFixed(1)} ms)`);
    silent.close();
    silent = undefined;
    await writes;

    // 3. A flood beyond the send lane (8 running + 32 queued): the excess is refused at once.
    const flood = await Promise.all(
      Array.from(
        { length: 400 },
        (_, i) => sendV2(client, addr, { topic: "Load", queueId: 0, body: `flood-${i}` }, 20_000),
      ),
    );
    const busy = flood.filter((r) => r.code === ResponseCode.SYSTEM_BUSY);
    const ok = flood.filter((r) => r.code === ResponseCode.SUCCESS);
    assert.ok(busy.length > 0, "some sends were refused SYSTEM_BUSY");
    assert.match(busy[0].remark ?? "", /\[REJECTREQUEST\]/);
    assert.equal(busy.length + ok.length, flood.length, "every send was either stored or refused busy");
    // Refused sends were not stored: the queue holds exactly the successes (plus the pings).
    const { response } = await pull(client, addr, {
      group: "Check",
      topic: "Load",
      queueId: 0,
      queueOffset: 0,
      maxMsgNums: 1,
    });
    assert.equal(Number(response.extFields.maxOffset), ok.length + 3);
    await roundTrip(client, addr);
    // Refusals are counted in /metrics, by reason.
    const metrics = await (await fetch(`http://127.0.0.1:${cluster.broker.ready.httpPort}/metrics`)).text();
    const laneFull = /denomq_rejected_requests_total\{[^}]*reason="lane_full"[^}]*lane="send"[^}]*\} (\d+)/.exec(
      metrics,
    );
    assert.ok(laneFull && Number(laneFull[1]) >= busy.length, `lane_full counted: ${laneFull?.[0]}`);
    console.log(
      `overload: ${Math.round(perConnection)} bytes per idle connection, non-reading client +${
        rssSilent - rssIdle
      } KiB, ` +
        `flood of ${flood.length}: ${ok.length} stored, ${busy.length} refused SYSTEM_BUSY`,
    );
  } finally {
    silent?.close();
    for (const conn of idle) conn.close();
    await client.close();
    await cluster.close();
  }
});
