/**
 * Crash safety of the broker process: `kill -9` of a SYNC_FLUSH broker under load, then a
 * restart. Every acknowledged send must be pullable at its acknowledged queue offset with its
 * body intact, committed consumer offsets must survive, and pending delayed and retry messages
 * must still be delivered.
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { createRequest } from "../protocol/command.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { startCluster, waitFor } from "./_process.ts";
import { createTopic, pull, sendV2 } from "./_wire.ts";

const decoder = new TextDecoder();
const QUEUES = 4;
/** Sends in flight during the load: enough for group commit to batch many per fdatasync. */
const INFLIGHT = 64;

Deno.test("broker: kill -9 under SYNC_FLUSH load loses no acknowledged message; offsets and delays survive", async () => {
  const cluster = await startCluster({ flushDiskType: "SYNC_FLUSH", messageDelayLevel: "1s 2s 4s" });
  let client = new RemotingClient();
  try {
    let addr = cluster.brokerAddr;
    assert.equal((await createTopic(client, addr, "Ledger", QUEUES)).code, ResponseCode.SUCCESS);
    // State that must survive: a committed offset, a delayed message, a pending retry.
    await sendV2(client, addr, { topic: "Ledger", queueId: 0, body: "seed" });
    await client.invoke(
      addr,
      createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, {
        consumerGroup: "G",
        topic: "Ledger",
        queueId: "0",
        commitOffset: "1",
      }),
    );
    assert.equal(
      (await sendV2(client, addr, { topic: "Ledger", queueId: 1, body: "delayed", properties: { DELAY: "3" } })).code,
      0,
    );
    const seed = (await pull(client, addr, { group: "G", topic: "Ledger", queueId: 0, queueOffset: 0 })).messages[0];
    const back = await client.invoke(
      addr,
      createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
        offset: String(seed.commitLogOffset),
        group: "G",
        delayLevel: "3",
        originMsgId: "x",
        originTopic: "Ledger",
        maxReconsumeTimes: "16",
      }),
    );
    assert.equal(back.code, ResponseCode.SUCCESS);
    await new Promise((r) => setTimeout(r, 1500)); // past the offset-persist interval (1 s)

    // Load: INFLIGHT concurrent senders until the kill.
    const acked: { queueId: number; queueOffset: number; body: string }[] = [];
    let stop = false;
    let sequence = 0;
    const sender = async () => {
      while (!stop) {
        const n = sequence++;
        const queueId = n % QUEUES;
        const body = `msg-${n}`;
        try {
          const r = await sendV2(client, addr, { topic: "Ledger", queueId, body }, 5000);
          if (r.code === ResponseCode.SUCCESS) {
            acked.push({ queueId, queueOffset: Number(r.extFields.queueOffset), body });
          }
        } catch {
          // the broker died mid-request: not acknowledged
        }
      }
    };
    const senders = Array.from({ length: INFLIGHT }, sender);
    await waitFor(() => acked.length >= 500, 20_000, "500 acknowledged sends");
    await cluster.killBroker();
    stop = true;
    await Promise.all(senders);
    const ackedCount = acked.length;
    assert.ok(ackedCount >= 500);

    await cluster.restartBroker();
    addr = cluster.brokerAddr;
    // A fresh client: the old one backs off reconnecting after the failures during the kill.
    await client.close();
    client = new RemotingClient();
    for (let queueId = 0; queueId < QUEUES; queueId++) {
      const expected = acked.filter((a) => a.queueId === queueId);
      const stored = new Map<number, string>();
      let offset = 0;
      while (true) {
        const { response, messages } = await pull(client, addr, {
          group: "V",
          topic: "Ledger",
          queueId,
          queueOffset: offset,
        });
        if (response.code !== ResponseCode.SUCCESS) break;
        for (const m of messages) stored.set(m.queueOffset, decoder.decode(m.body));
        offset = Number(response.extFields.nextBeginOffset);
      }
      for (const a of expected) {
        assert.equal(
          stored.get(a.queueOffset),
          a.body,
          `acknowledged ${a.body} at queue ${queueId} offset ${a.queueOffset}`,
        );
      }
    }
    const committed = await client.invoke(
      addr,
      createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "G", topic: "Ledger", queueId: "0" }),
    );
    assert.equal(committed.extFields.offset, "1", "the committed offset survived the crash");
    // The delayed message (level 3 = 4 s) and the retry (level 3) are delivered after the restart.
    const delayed = await waitFor(
      async () => {
        let off = 0;
        while (true) {
          const r = await pull(client, addr, {
            group: "V",
            topic: "Ledger",
            queueId: 1,
            queueOffset: off,
            maxMsgNums: 32,
          });
          if (r.response.code !== ResponseCode.SUCCESS) return undefined;
          const hit = r.messages.find((m) => decoder.decode(m.body) === "delayed");
          if (hit) return hit;
          off = Number(r.response.extFields.nextBeginOffset);
        }
      },
      15_000,
      "the delayed message",
    );
    assert.ok(delayed);
    const retried = await waitFor(
      async () => (await pull(client, addr, { group: "G", topic: "%RETRY%G", queueId: 0, queueOffset: 0 })).messages[0],
      15_000,
      "the retry",
    );
    assert.equal(decoder.decode(retried.body), "seed");
    console.log(`crash test: ${ackedCount} acknowledged sends before kill -9, all present after restart`);
  } finally {
    await client.close();
    await cluster.close();
  }
});
