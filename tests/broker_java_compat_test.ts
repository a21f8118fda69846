/**
 * Broker behaviour the real Apache RocketMQ 4.9.7 Java client depends on, found by running it
 * against denomq and the reference broker side by side (`tests/manual/java/`). The Java client
 * cannot run here, so each finding is pinned down with raw requests against real processes.
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { encodeJsonBody } from "../protocol/bodies.ts";
import { createRequest, createResponse, type RemotingCommand } from "../protocol/command.ts";
import { toExtFields } from "../protocol/header.ts";
import { encodeBatchBody, encodeProperties, parseProperties } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { startCluster, waitFor } from "./_process.ts";
import { createTopic, heartbeat, pull, sendV2 } from "./_wire.ts";

/** Short delay levels so retries and delays take a second, not minutes. */
const FAST_LEVELS = "1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";

function routeRequest(topic: string): RemotingCommand {
  return { ...createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }), version: 409 };
}

Deno.test("broker: the retry topic a first heartbeat creates is routable before the group is notified or answered", async () => {
  // The Java push consumer rebalances as soon as NOTIFY_CONSUMER_IDS_CHANGED (sent to the new
  // member too) or the heartbeat's reply arrives, and asks the NameServer for the route of
  // %RETRY%<group>; if the broker has not re-registered by then, the consumer ignores its retry
  // queue until its next route poll (30 s) and retries arrive late.
  const cluster = await startCluster();
  const routeOnNotify: Promise<RemotingCommand>[] = [];
  const routeClient = new RemotingClient();
  const client = new RemotingClient({
    onServerRequest(request) {
      if (request.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED) {
        const group = request.extFields.consumerGroup;
        routeOnNotify.push(routeClient.invoke(cluster.namesrv, routeRequest(`%RETRY%${group}`)));
      }
      return null;
    },
  });
  try {
    for (let i = 0; i < 20; i++) {
      const group = `G${i}`;
      const hb = await client.invoke(
        cluster.brokerAddr,
        heartbeat(`127.0.0.1@c${i}`, group, [`%RETRY%${group}`]),
      );
      assert.equal(hb.code, ResponseCode.SUCCESS);
      const route = await routeClient.invoke(cluster.namesrv, routeRequest(`%RETRY%${group}`));
      assert.equal(route.code, ResponseCode.SUCCESS, `route of %RETRY%${group} right after its first heartbeat`);
    }
    await waitFor(() => routeOnNotify.length === 20, 5000, "20 notifications");
    const onNotify = await Promise.all(routeOnNotify);
    assert.deepEqual(onNotify.map((r) => r.code), onNotify.map(() => ResponseCode.SUCCESS));
  } finally {
    await client.close();
    await routeClient.close();
    await cluster.close();
  }
});

Deno.test("broker: delivered delayed messages and send-back copies keep DELAY and WAIT as RocketMQ stores them", async () => {
  // RocketMQ 4.9.7 re-stores a due message with its stored properties unchanged (DELAY=<level>
  // included; it clears DELAY only in memory so it is not delayed twice), writes WAIT=false into
  // every send-back copy, and DELAY=0 into a dead letter. Java consumers see these properties.
  const cluster = await startCluster({ messageDelayLevel: FAST_LEVELS });
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    await createTopic(client, addr, "Late", 1);
    assert.equal((await sendV2(client, addr, { topic: "Late", body: "x", properties: { DELAY: "2" } })).code, 0);
    const delivered = await waitFor(
      async () => (await pull(client, addr, { group: "G", topic: "Late", queueId: 0, queueOffset: 0 })).messages[0],
      8000,
      "the delayed message",
    );
    const props = Object.fromEntries(parseProperties(delivered.properties));
    assert.equal(props.DELAY, "2");
    assert.equal(props.WAIT, undefined, "a producer's WAIT never reaches the store");
    assert.equal(props.REAL_TOPIC, "Late");
    // Delivered once, not delayed again by its kept DELAY property.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const level2 = await client.invoke(
      addr,
      createRequest(RequestCode.GET_MAX_OFFSET, { topic: "SCHEDULE_TOPIC_XXXX", queueId: "1" }),
    );
    assert.equal(level2.extFields.offset, "1");
    const late = await client.invoke(addr, createRequest(RequestCode.GET_MAX_OFFSET, { topic: "Late", queueId: "0" }));
    assert.equal(late.extFields.offset, "1");

    const sendBack = (offset: number, delayLevel: number) =>
      client.invoke(
        addr,
        createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
          offset: String(offset),
          group: "W",
          delayLevel: String(delayLevel),
          originMsgId: "x",
          originTopic: "Late",
          unitMode: "false",
          maxReconsumeTimes: "1",
        }),
      );
    assert.equal((await sendBack(delivered.commitLogOffset, 0)).code, ResponseCode.SUCCESS);
    const retried = await waitFor(
      async () => (await pull(client, addr, { group: "W", topic: "%RETRY%W", queueId: 0, queueOffset: 0 })).messages[0],
      8000,
      "the retry copy",
    );
    const retryProps = Object.fromEntries(parseProperties(retried.properties));
    assert.equal(retryProps.DELAY, "3", "the broker's level for a first retry (3 + reconsumeTimes 0)");
    assert.equal(retryProps.WAIT, "false");
    assert.equal(retryProps.REAL_TOPIC, "%RETRY%W");
    assert.equal((await sendBack(retried.commitLogOffset, 0)).code, ResponseCode.SUCCESS);
    const dead = await waitFor(
      async () => (await pull(client, addr, { group: "W", topic: "%DLQ%W", queueId: 0, queueOffset: 0 })).messages[0],
      5000,
      "the dead letter",
    );
    const deadProps = Object.fromEntries(parseProperties(dead.properties));
    assert.equal(deadProps.DELAY, "0");
    assert.equal(deadProps.WAIT, "false");
    assert.equal(dead.reconsumeTimes, 2);
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker: a pull past the end of a queue is moved to the queue's max offset, even when its min is 0", async () => {
  // DefaultMQPullConsumer reports OFFSET_ILLEGAL with nextBeginOffset = max against RocketMQ
  // 4.9.7; a push consumer adopts that offset, so answering 0 would replay the whole queue.
  const cluster = await startCluster();
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    await createTopic(client, addr, "Ahead", 1);
    for (let i = 0; i < 3; i++) assert.equal((await sendV2(client, addr, { topic: "Ahead", body: `m${i}` })).code, 0);
    const { response } = await pull(client, addr, { group: "G", topic: "Ahead", queueId: 0, queueOffset: 50 });
    assert.equal(response.code, ResponseCode.PULL_OFFSET_MOVED);
    assert.equal(response.remark, "OFFSET_OVERFLOW_BADLY");
    assert.equal(response.extFields.nextBeginOffset, "3");
    assert.equal(response.extFields.minOffset, "0");
    assert.equal(response.extFields.maxOffset, "3");
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker: a reply message is pushed to the requesting producer and stored in the reply topic", async () => {
  // DefaultMQProducer.request() waits for PUSH_REPLY_MESSAGE_TO_CLIENT; the replying consumer
  // sends SEND_REPLY_MESSAGE_V2, which denomq answered REQUEST_CODE_NOT_SUPPORTED.
  const cluster = await startCluster();
  const pushed: RemotingCommand[] = [];
  const requester = new RemotingClient({
    onServerRequest(request) {
      if (request.code !== RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT) return null;
      pushed.push(request);
      return createResponse(request, ResponseCode.SUCCESS);
    },
  });
  const replier = new RemotingClient();
  const addr = cluster.brokerAddr;
  const reply = (replyTo: string) =>
    replier.invoke(
      addr,
      createRequest(
        RequestCode.SEND_REPLY_MESSAGE_V2,
        toExtFields({
          a: "ReplyGroup",
          b: "DefaultCluster_REPLY_TOPIC",
          c: "TBW102",
          d: 4,
          e: -1,
          f: 0,
          g: Date.now(),
          h: 0,
          i: encodeProperties({ MSG_TYPE: "reply", CORRELATION_ID: "corr-1", REPLY_TO_CLIENT: replyTo, TTL: "3000" }),
          j: 0,
          k: false,
        }),
        { body: new TextEncoder().encode("pong") },
      ),
    );
  try {
    const hb = createRequest(RequestCode.HEART_BEAT, {}, {
      body: encodeJsonBody({
        clientID: "127.0.0.1@requester",
        consumerDataSet: [],
        producerDataSet: [{ groupName: "RequestGroup" }],
      }),
    });
    assert.equal((await requester.invoke(addr, hb)).code, ResponseCode.SUCCESS);

    const ok = await reply("127.0.0.1@requester");
    assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
    assert.equal(pushed.length, 1);
    const push = pushed[0];
    assert.equal(new TextDecoder().decode(push.body), "pong");
    assert.equal(push.extFields.topic, "DefaultCluster_REPLY_TOPIC");
    assert.equal(push.extFields.producerGroup, "ReplyGroup");
    assert.match(push.extFields.bornHost, /^127\.0\.0\.1:\d+$/);
    assert.equal(push.extFields.storeHost, addr);
    const props = parseProperties(push.extFields.properties);
    assert.equal(props.get("CORRELATION_ID"), "corr-1");
    assert.ok(Number(props.get("PUSH_REPLY_TIME")) > 0);
    // Stored too: the reply's header points at the stored message.
    assert.equal(ok.extFields.msgId.length, 32);
    assert.equal(ok.extFields.MSG_REGION, "DefaultRegion");
    const stored = await pull(replier, addr, {
      group: "G",
      topic: "DefaultCluster_REPLY_TOPIC",
      queueId: Number(ok.extFields.queueId),
      queueOffset: Number(ok.extFields.queueOffset),
    });
    assert.equal(new TextDecoder().decode(stored.messages[0]?.body), "pong");

    const gone = await reply("127.0.0.1@nobody");
    assert.equal(gone.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(gone.remark, "push reply message fail, channel of <127.0.0.1@nobody> not found.");
  } finally {
    await requester.close();
    await replier.close();
    await cluster.close();
  }
});

Deno.test("broker: a delayed message keeps the sender's WAIT, a batch's shared properties keep it too (RocketMQ's stored sizes)", async () => {
  // Seen by diffing every MessageExt field between the reference broker and denomq
  // (tests/manual/java/Fields.java): RocketMQ re-encodes a delayed message's properties from its
  // map, where WAIT still is, and appends a batch's header properties, WAIT included, to each
  // message's own, so these records were 10 bytes shorter in denomq.
  const cluster = await startCluster({ messageDelayLevel: FAST_LEVELS });
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    await createTopic(client, addr, "Sized", 1);
    const delayed = await sendV2(client, addr, {
      topic: "Sized",
      body: "d",
      properties: { TAGS: "D", DELAY: "1", WAIT: "true" },
    });
    assert.equal(delayed.code, ResponseCode.SUCCESS);
    const scheduled = await pull(client, addr, {
      group: "G",
      topic: "SCHEDULE_TOPIC_XXXX",
      queueId: 0,
      queueOffset: 0,
    });
    assert.equal(parseProperties(scheduled.messages[0].properties).get("WAIT"), "true");
    const delivered = await waitFor(
      async () => (await pull(client, addr, { group: "G", topic: "Sized", queueId: 0, queueOffset: 0 })).messages[0],
      5000,
      "the delayed message",
    );
    assert.equal(parseProperties(delivered.properties).get("WAIT"), "true");

    const body = encodeBatchBody([{ flag: 0, body: new TextEncoder().encode("b"), properties: "KEYS\u0001b1" }]);
    const batch = await client.invoke(
      addr,
      createRequest(
        RequestCode.SEND_BATCH_MESSAGE,
        toExtFields({
          a: "P",
          b: "Sized",
          c: "TBW102",
          d: 4,
          e: 0,
          f: 0,
          g: Date.now(),
          h: 0,
          j: 0,
          k: false,
          m: true,
          i: encodeProperties({ WAIT: "true" }),
        }),
        { body },
      ),
    );
    assert.equal(batch.code, ResponseCode.SUCCESS, batch.remark);
    const stored = await pull(client, addr, {
      group: "G",
      topic: "Sized",
      queueId: 0,
      queueOffset: Number(batch.extFields.queueOffset),
    });
    assert.equal(
      stored.messages[0].properties,
      "KEYS\u0001b1\u0002WAIT\u0001true\u0002CLUSTER\u0001DefaultCluster",
    );
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker: a held pull woken after its group changed subscription is filtered by the new one", async () => {
  // A Java consumer that re-subscribes (tag A → B) while its pull is held got an A message:
  // RocketMQ re-executes a woken pull from the start, looking the subscription up again.
  const cluster = await startCluster();
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  const heartbeatWithTag = (tag: string, subVersion: number) =>
    createRequest(RequestCode.HEART_BEAT, {}, {
      body: encodeJsonBody({
        clientID: "127.0.0.1@switcher",
        consumerDataSet: [{
          consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
          consumeType: "CONSUME_PASSIVELY",
          groupName: "Switch",
          messageModel: "CLUSTERING",
          subscriptionDataSet: [{ topic: "Tagged", subString: tag, subVersion, expressionType: "TAG" }],
          unitMode: false,
        }],
        producerDataSet: [],
      }),
    });
  try {
    await createTopic(client, addr, "Tagged", 1);
    assert.equal((await client.invoke(addr, heartbeatWithTag("A", 1))).code, ResponseCode.SUCCESS);
    const held = client.invoke(
      addr,
      createRequest(
        RequestCode.PULL_MESSAGE,
        toExtFields({
          consumerGroup: "Switch",
          topic: "Tagged",
          queueId: 0,
          queueOffset: 0,
          maxMsgNums: 32,
          sysFlag: 0x2, // SUSPEND, no SUBSCRIPTION: the broker uses the heartbeat's
          commitOffset: 0,
          suspendTimeoutMillis: 5000,
          subVersion: 1,
        }),
      ),
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await client.invoke(addr, heartbeatWithTag("B", 2))).code, ResponseCode.SUCCESS);
    assert.equal((await sendV2(client, addr, { topic: "Tagged", body: "a", properties: { TAGS: "A" } })).code, 0);
    const response = await held;
    assert.equal(response.code, ResponseCode.PULL_RETRY_IMMEDIATELY, "the A message no longer matches");
    assert.equal(response.extFields.nextBeginOffset, "1");
  } finally {
    await client.close();
    await cluster.close();
  }
});
