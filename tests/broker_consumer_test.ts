/**
 * End-to-end consumer-side behaviour against real processes: heartbeats, group membership and
 * NOTIFY_CONSUMER_IDS_CHANGED, offsets, send-back to the retry topic and the DLQ, delay levels,
 * and orderly-consumer queue locks.
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { decodeJsonBody, encodeJsonBody } from "../protocol/bodies.ts";
import { createRequest } from "../protocol/command.ts";
import { parseProperties } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { startCluster, waitFor } from "./_process.ts";
import { createTopic, heartbeat, pull, sendV2 } from "./_wire.ts";

const decoder = new TextDecoder();
/** Short delay levels so retries and delays take a second, not minutes. */
const FAST_LEVELS = "1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";

Deno.test("broker: heartbeats register members, create the retry topic and notify the group on changes", async () => {
  const cluster = await startCluster();
  const notified: string[] = [];
  const first = new RemotingClient({
    onServerRequest(request) {
      if (request.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED) notified.push(request.extFields.consumerGroup);
      return null;
    },
  });
  const second = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    await createTopic(first, addr, "T", 4);
    assert.equal((await first.invoke(addr, heartbeat("10.0.0.1@a", "G", ["T", "%RETRY%G"]))).code, 0);
    const list1 = await first.invoke(
      addr,
      createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: "G" }),
    );
    assert.deepEqual(decodeJsonBody(list1.body, "ids"), { consumerIdList: ["10.0.0.1@a"] });
    // The group's retry topic now exists (created at the first heartbeat).
    const retrySend = await sendV2(first, addr, { topic: "%RETRY%G", body: "r", reconsumeTimes: 1 });
    assert.equal(retrySend.code, ResponseCode.SUCCESS, retrySend.remark);

    await second.invoke(addr, heartbeat("10.0.0.2@b", "G", ["T", "%RETRY%G"]));
    await waitFor(() => notified.includes("G"), 5000, "NOTIFY_CONSUMER_IDS_CHANGED on join");
    const list2 = await first.invoke(
      addr,
      createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: "G" }),
    );
    assert.deepEqual((decodeJsonBody(list2.body, "ids") as { consumerIdList: string[] }).consumerIdList.sort(), [
      "10.0.0.1@a",
      "10.0.0.2@b",
    ]);

    notified.length = 0;
    await second.close(); // a closed connection leaves the group at once
    await waitFor(() => notified.includes("G"), 5000, "NOTIFY_CONSUMER_IDS_CHANGED on leave");
    const list3 = await first.invoke(
      addr,
      createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: "G" }),
    );
    assert.deepEqual(decodeJsonBody(list3.body, "ids"), { consumerIdList: ["10.0.0.1@a"] });

    await first.invoke(
      addr,
      createRequest(RequestCode.UNREGISTER_CLIENT, { clientID: "10.0.0.1@a", consumerGroup: "G" }),
    );
    const none = await first.invoke(
      addr,
      createRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: "G" }),
    );
    assert.equal(none.code, ResponseCode.SYSTEM_ERROR);
    assert.match(none.remark ?? "", /no consumer for this group/);

    // A pull without the SUBSCRIPTION flag uses the heartbeat's subscription; none → 24.
    const noSub = await first.invoke(
      addr,
      createRequest(RequestCode.PULL_MESSAGE, {
        consumerGroup: "Unknown",
        topic: "T",
        queueId: "0",
        queueOffset: "0",
        maxMsgNums: "32",
        sysFlag: "0",
        commitOffset: "0",
        suspendTimeoutMillis: "0",
        subVersion: "0",
      }),
    );
    assert.equal(noSub.code, ResponseCode.SUBSCRIPTION_NOT_EXIST);
  } finally {
    await first.close();
    await second.close();
    await cluster.close();
  }
});

Deno.test("broker: consumer offsets are stored, -1 is ignored, a new group starts at 0, and offsets survive a restart", async () => {
  const cluster = await startCluster();
  let client = new RemotingClient();
  try {
    let addr = cluster.brokerAddr;
    await createTopic(client, addr, "T", 2);
    await sendV2(client, addr, { topic: "T", queueId: 0, body: "a" });
    const query = () =>
      client.invoke(
        addr,
        createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "G", topic: "T", queueId: "0" }),
      );
    const fresh = await query();
    assert.equal(fresh.code, ResponseCode.SUCCESS);
    assert.equal(fresh.extFields.offset, "0", "a new group on a young queue starts at 0");
    const update = (offset: string) =>
      client.invoke(
        addr,
        createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, {
          consumerGroup: "G",
          topic: "T",
          queueId: "0",
          commitOffset: offset,
        }),
      );
    assert.equal((await update("1")).code, ResponseCode.SUCCESS);
    assert.equal((await query()).extFields.offset, "1");
    await update("-1"); // ali-ons reports offset 0 as -1
    assert.equal((await query()).extFields.offset, "1", "a negative commit is ignored");
    // A pull with the COMMIT_OFFSET flag commits too.
    await pull(client, addr, { group: "G", topic: "T", queueId: 1, queueOffset: 0, commitOffset: 7 });
    const q1 = await client.invoke(
      addr,
      createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: "G", topic: "T", queueId: "1" }),
    );
    assert.equal(q1.extFields.offset, "7");

    assert.equal(await cluster.stopBroker(), 0);
    await cluster.restartBroker();
    addr = cluster.brokerAddr;
    await client.close();
    client = new RemotingClient();
    assert.equal((await query()).extFields.offset, "1", "offsets survive a clean restart");
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker: send-back goes to %RETRY% with a delay, then to %DLQ% after max reconsume times", async () => {
  const cluster = await startCluster({ messageDelayLevel: FAST_LEVELS });
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    await createTopic(client, addr, "Jobs", 1);
    await sendV2(client, addr, {
      topic: "Jobs",
      body: "work",
      properties: { TAGS: "T1", KEYS: "job-1", UNIQ_KEY: "ABCDEF0123456789ABCDEF0123456789" },
    });
    const [original] = (await pull(client, addr, { group: "W", topic: "Jobs", queueId: 0, queueOffset: 0 })).messages;
    const sendBack = (offset: number, maxReconsumeTimes: number) =>
      client.invoke(
        addr,
        createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
          offset: String(offset),
          group: "W",
          delayLevel: "0",
          originMsgId: "x",
          originTopic: "Jobs",
          unitMode: "false",
          maxReconsumeTimes: String(maxReconsumeTimes),
        }),
      );
    assert.equal((await sendBack(original.commitLogOffset, 2)).code, ResponseCode.SUCCESS);
    // Delayed first: it lands in %RETRY%W only when the delay (1 s here) has passed.
    const retried = await waitFor(
      async () => {
        const r = await pull(client, addr, { group: "W", topic: "%RETRY%W", queueId: 0, queueOffset: 0 });
        return r.messages[0];
      },
      8000,
      "the retry copy",
    );
    const props = Object.fromEntries(parseProperties(retried.properties));
    assert.equal(decoder.decode(retried.body), "work");
    assert.equal(retried.reconsumeTimes, 1);
    assert.equal(props.RETRY_TOPIC, "Jobs");
    assert.equal(props.TAGS, "T1");
    assert.equal(props.KEYS, "job-1");
    assert.equal(props.UNIQ_KEY, "ABCDEF0123456789ABCDEF0123456789");
    assert.ok(props.ORIGIN_MESSAGE_ID, "ORIGIN_MESSAGE_ID is set");
    assert.equal(props.REAL_TOPIC, "%RETRY%W", "it went through the schedule topic");

    // Fail it again: reconsume 1 → retry 2; then reconsume 2 ≥ max 2 → DLQ.
    assert.equal((await sendBack(retried.commitLogOffset, 2)).code, ResponseCode.SUCCESS);
    const second = await waitFor(
      async () => (await pull(client, addr, { group: "W", topic: "%RETRY%W", queueId: 0, queueOffset: 1 })).messages[0],
      8000,
      "second retry",
    );
    assert.equal(second.reconsumeTimes, 2);
    assert.equal((await sendBack(second.commitLogOffset, 2)).code, ResponseCode.SUCCESS);
    const dead = await waitFor(
      async () => (await pull(client, addr, { group: "W", topic: "%DLQ%W", queueId: 0, queueOffset: 0 })).messages[0],
      5000,
      "DLQ copy",
    );
    assert.equal(decoder.decode(dead.body), "work");
    assert.equal(dead.reconsumeTimes, 3);
    assert.equal(parseProperties(dead.properties).get("RETRY_TOPIC"), "Jobs");

    const missing = await sendBack(123456789, 2);
    assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
    assert.match(missing.remark ?? "", /look message by offset failed/);
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker: a producer-set delay level delivers to the real topic after the delay", async () => {
  const cluster = await startCluster({ messageDelayLevel: "1s 2s 3s" });
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    await createTopic(client, addr, "Later", 1);
    const sentAt = Date.now();
    const sent = await sendV2(client, addr, { topic: "Later", body: "soon", properties: { DELAY: "2" } });
    assert.equal(sent.code, ResponseCode.SUCCESS);
    assert.equal(
      (await pull(client, addr, { group: "G", topic: "Later", queueId: 0, queueOffset: 0 })).response.code,
      ResponseCode.PULL_NOT_FOUND,
    );
    const held = await pull(client, addr, { group: "G", topic: "Later", queueId: 0, queueOffset: 0, suspendMs: 8000 });
    const elapsed = Date.now() - sentAt;
    assert.equal(held.response.code, ResponseCode.SUCCESS);
    assert.ok(elapsed >= 1800 && elapsed < 6000, `delivered after ${elapsed} ms (level 2 = 2 s)`);
    const props = Object.fromEntries(parseProperties(held.messages[0].properties));
    assert.equal(props.DELAY, "2", "DELAY stays on delivery, as in RocketMQ 4.9.7");
    assert.equal(props.REAL_TOPIC, "Later");
    // Levels above the maximum are clamped.
    assert.equal((await sendV2(client, addr, { topic: "Later", body: "max", properties: { DELAY: "99" } })).code, 0);
    const delay = await client.invoke(
      addr,
      createRequest(RequestCode.GET_MAX_OFFSET, { topic: "SCHEDULE_TOPIC_XXXX", queueId: "2" }),
    );
    assert.equal(delay.extFields.offset, "1", "level 99 was clamped to level 3 (queue 2)");
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker: orderly consumers lock queues; locks are exclusive per group and released on unlock", async () => {
  const cluster = await startCluster();
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  const mq = (queueId: number) => ({ brokerName: "broker-a", queueId, topic: "T" });
  const lock = async (clientId: string, queues: number[]) => {
    const response = await client.invoke(
      addr,
      createRequest(RequestCode.LOCK_BATCH_MQ, {}, {
        body: encodeJsonBody({ consumerGroup: "OG", clientId, mqSet: queues.map(mq) }),
      }),
    );
    return (decodeJsonBody(response.body, "lock") as { lockOKMQSet: { queueId: number }[] }).lockOKMQSet.map((q) =>
      q.queueId
    ).sort();
  };
  try {
    assert.deepEqual(await lock("c1", [0, 1]), [0, 1]);
    assert.deepEqual(await lock("c2", [1, 2]), [2], "queue 1 is held by c1");
    assert.deepEqual(await lock("c1", [0, 1]), [0, 1], "renewal by the holder");
    const unlock = await client.invoke(
      addr,
      createRequest(RequestCode.UNLOCK_BATCH_MQ, {}, {
        body: encodeJsonBody({ consumerGroup: "OG", clientId: "c1", mqSet: [mq(1)] }),
      }),
    );
    assert.equal(unlock.code, ResponseCode.SUCCESS);
    assert.deepEqual(await lock("c2", [1]), [1]);
  } finally {
    await client.close();
    await cluster.close();
  }
});
