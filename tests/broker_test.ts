/**
 * End-to-end broker behaviour over TCP against real `nameserver` and `broker` processes:
 * send/pull, reply headers, statuses, long polling, tag filtering, auto-creation, validation,
 * batches, queries and the VIP port.
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { decodeJsonBody, readTopicRouteData } from "../protocol/bodies.ts";
import { createRequest } from "../protocol/command.ts";
import { toExtFields } from "../protocol/header.ts";
import {
  createOffsetMessageId,
  decodeMessageRecords,
  encodeBatchBody,
  encodeProperties,
  parseProperties,
  tagsHashCode,
} from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { startCluster, waitFor } from "./_process.ts";
import { createTopic, pull, sendV2 } from "./_wire.ts";

const decoder = new TextDecoder();

Deno.test("broker: send and pull round trip with RocketMQ's reply fields and statuses", async () => {
  const cluster = await startCluster();
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    assert.equal((await createTopic(client, addr, "Orders", 4)).code, ResponseCode.SUCCESS);
    const sent = await sendV2(client, addr, {
      topic: "Orders",
      queueId: 2,
      body: "hello",
      properties: { TAGS: "TagA", KEYS: "k1 k2", UNIQ_KEY: "7F0000010D051B6D35860A1C2B3D0001", WAIT: "true" },
    });
    assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark);
    assert.deepEqual(Object.keys(sent.extFields), ["queueId", "TRACE_ON", "MSG_REGION", "msgId", "queueOffset"]);
    assert.equal(sent.extFields.queueId, "2");
    assert.equal(sent.extFields.queueOffset, "0");
    assert.equal(sent.extFields.MSG_REGION, "DefaultRegion");
    assert.equal(sent.extFields.TRACE_ON, "true");
    assert.match(sent.extFields.msgId, /^7F000001[0-9A-F]{24}$/);

    const { response, messages } = await pull(client, addr, {
      group: "G1",
      topic: "Orders",
      queueId: 2,
      queueOffset: 0,
    });
    assert.equal(response.code, ResponseCode.SUCCESS);
    assert.equal(response.remark, "FOUND");
    assert.deepEqual(response.extFields, {
      suggestWhichBrokerId: "0",
      nextBeginOffset: "1",
      maxOffset: "1",
      minOffset: "0",
    });
    assert.equal(messages.length, 1);
    const [m] = messages;
    assert.equal(decoder.decode(m.body), "hello");
    assert.equal(m.topic, "Orders");
    assert.equal(m.queueId, 2);
    assert.equal(createOffsetMessageId(m.storeHost, m.commitLogOffset), sent.extFields.msgId);
    const props = Object.fromEntries(parseProperties(m.properties));
    assert.equal(props.CLUSTER, "DefaultCluster", "the broker adds CLUSTER");
    assert.equal(props.WAIT, undefined, "WAIT leaves the stored properties");
    assert.equal(props.KEYS, "k1 k2");

    const caughtUp = await pull(client, addr, { group: "G1", topic: "Orders", queueId: 2, queueOffset: 1 });
    assert.equal(caughtUp.response.code, ResponseCode.PULL_NOT_FOUND);
    assert.equal(caughtUp.response.remark, "OFFSET_OVERFLOW_ONE");
    assert.equal(caughtUp.response.extFields.nextBeginOffset, "1");
    const beyond = await pull(client, addr, { group: "G1", topic: "Orders", queueId: 2, queueOffset: 5 });
    assert.equal(beyond.response.code, ResponseCode.PULL_OFFSET_MOVED);
    // RocketMQ 4.9.7 corrects an offset past the end to the queue's max offset.
    assert.equal(beyond.response.extFields.nextBeginOffset, "1");
    const empty = await pull(client, addr, { group: "G1", topic: "Orders", queueId: 0, queueOffset: 0 });
    assert.equal(empty.response.code, ResponseCode.PULL_NOT_FOUND);
    assert.equal(empty.response.extFields.maxOffset, "0");
    const badQueue = await pull(client, addr, { group: "G1", topic: "Orders", queueId: 9, queueOffset: 0 });
    assert.equal(badQueue.response.code, ResponseCode.SYSTEM_ERROR);

    const max = await client.invoke(addr, createRequest(RequestCode.GET_MAX_OFFSET, { topic: "Orders", queueId: "2" }));
    assert.equal(max.extFields.offset, "1");
    const min = await client.invoke(addr, createRequest(RequestCode.GET_MIN_OFFSET, { topic: "Orders", queueId: "2" }));
    assert.equal(min.extFields.offset, "0");
    const earliest = await client.invoke(
      addr,
      createRequest(RequestCode.GET_EARLIEST_MSG_STORETIME, { topic: "Orders", queueId: "2" }),
    );
    assert.equal(earliest.extFields.timestamp, String(m.storeTimestamp));
    const search = await client.invoke(
      addr,
      createRequest(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, {
        topic: "Orders",
        queueId: "2",
        timestamp: String(m.storeTimestamp),
      }),
    );
    assert.equal(search.extFields.offset, "0");

    // Queries: by key through the index, by offsetMsgId through the commit-log offset.
    const byKey = await client.invoke(
      addr,
      createRequest(RequestCode.QUERY_MESSAGE, {
        topic: "Orders",
        key: "k2",
        maxNum: "32",
        beginTimestamp: "0",
        endTimestamp: String(Date.now() + 60_000),
      }),
    );
    assert.equal(byKey.code, ResponseCode.SUCCESS, byKey.remark);
    assert.equal(decodeMessageRecords(byKey.body!)[0].commitLogOffset, m.commitLogOffset);
    const byUniq = await client.invoke(
      addr,
      createRequest(RequestCode.QUERY_MESSAGE, {
        topic: "Orders",
        key: "7F0000010D051B6D35860A1C2B3D0001",
        maxNum: "32",
        beginTimestamp: "0",
        endTimestamp: String(Date.now() + 60_000),
        _UNIQUE_KEY_QUERY: "true",
      }),
    );
    assert.equal(byUniq.code, ResponseCode.SUCCESS);
    const view = await client.invoke(
      addr,
      createRequest(RequestCode.VIEW_MESSAGE_BY_ID, { offset: String(m.commitLogOffset) }),
    );
    assert.equal(view.code, ResponseCode.SUCCESS);
    assert.equal(decoder.decode(decodeMessageRecords(view.body!)[0].body), "hello");
    const missing = await client.invoke(addr, createRequest(RequestCode.VIEW_MESSAGE_BY_ID, { offset: "999999" }));
    assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker: long polling holds a pull until a matching message arrives; tags filter on the broker", async () => {
  const cluster = await startCluster();
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    await createTopic(client, addr, "Events", 1);
    const started = Date.now();
    const held = pull(client, addr, {
      group: "G",
      topic: "Events",
      queueId: 0,
      queueOffset: 0,
      suspendMs: 10_000,
      subscription: "TagA || TagC",
    });
    await new Promise((r) => setTimeout(r, 300));
    // A TagB message does not match the held pull's filter: it stays held.
    assert.equal((await sendV2(client, addr, { topic: "Events", body: "b", properties: { TAGS: "TagB" } })).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await sendV2(client, addr, { topic: "Events", body: "a", properties: { TAGS: "TagA" } })).code, 0);
    const { response, messages } = await held;
    const elapsed = Date.now() - started;
    assert.equal(response.code, ResponseCode.SUCCESS);
    assert.ok(elapsed < 5000, `woken by the arrival, not the timeout (${elapsed} ms)`);
    assert.deepEqual(messages.map((m) => decoder.decode(m.body)), ["a"], "the TagB unit is skipped by the broker");
    assert.equal(response.extFields.nextBeginOffset, "2", "skipped units still advance nextBeginOffset");

    // Only non-matching messages: PULL_RETRY_IMMEDIATELY with the offset moved past them.
    await sendV2(client, addr, { topic: "Events", body: "b2", properties: { TAGS: "TagB" } });
    const noMatch = await pull(client, addr, {
      group: "G",
      topic: "Events",
      queueId: 0,
      queueOffset: 2,
      subscription: "TagA",
    });
    assert.equal(noMatch.response.code, ResponseCode.PULL_RETRY_IMMEDIATELY);
    assert.equal(noMatch.response.extFields.nextBeginOffset, "3");

    // A held pull with nothing arriving is answered PULL_NOT_FOUND at its deadline.
    const t0 = Date.now();
    const timedOut = await pull(client, addr, {
      group: "G",
      topic: "Events",
      queueId: 0,
      queueOffset: 3,
      suspendMs: 800,
    });
    const waited = Date.now() - t0;
    assert.equal(timedOut.response.code, ResponseCode.PULL_NOT_FOUND);
    assert.ok(waited >= 700 && waited < 5000, `held for ${waited} ms`);
    assert.equal(tagsHashCode("TagA"), 2598919);
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker: auto-creation from TBW102, validation errors, batches and the VIP port", async () => {
  const cluster = await startCluster({ defaultTopicQueueNums: "8" });
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    // An unknown topic is created from TBW102 with min(client's 4, template's 8) queues, and routed.
    const auto = await sendV2(client, addr, { topic: "AutoTopic", body: "x" });
    assert.equal(auto.code, ResponseCode.SUCCESS, auto.remark);
    const route = await waitFor(
      async () => {
        const r = await client.invoke(cluster.namesrv, {
          ...createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "AutoTopic" }),
          version: 409,
        });
        return r.code === 0 ? readTopicRouteData(decodeJsonBody(r.body, "route")) : undefined;
      },
      5000,
      "route of the auto-created topic",
    );
    assert.equal(route.queueDatas[0].writeQueueNums, 4);
    assert.equal(route.queueDatas[0].perm, 6, "INHERIT is not inherited");

    const badName = await sendV2(client, addr, { topic: "bad topic!", body: "x" });
    assert.equal(badName.code, ResponseCode.SYSTEM_ERROR);
    assert.match(badName.remark ?? "", /contains illegal characters/);
    const reserved = await sendV2(client, addr, { topic: "SCHEDULE_TOPIC_XXXX", body: "x" });
    assert.equal(reserved.code, ResponseCode.NO_PERMISSION);
    const tooBig = await sendV2(client, addr, { topic: "AutoTopic", body: new Uint8Array(4 * 1024 * 1024 + 1) });
    assert.equal(tooBig.code, ResponseCode.MESSAGE_ILLEGAL);
    assert.match(tooBig.remark ?? "", /4194305 bytes, limit is 4194304 bytes/);
    const badHeader = await client.invoke(addr, createRequest(RequestCode.SEND_MESSAGE_V2, { a: "P", b: "AutoTopic" }));
    assert.equal(badHeader.code, ResponseCode.INVALID_PARAMETER);
    assert.match(badHeader.remark ?? "", /required field/);
    const unknown = await client.invoke(addr, createRequest(4242));
    assert.equal(unknown.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);

    // A batch: consecutive queue offsets, one id per message, batch properties added to each.
    const body = encodeBatchBody([1, 2, 3].map((n) => ({
      flag: n,
      body: new TextEncoder().encode(`m${n}`),
      properties: encodeProperties({ KEYS: `b${n}`, UNIQ_KEY: `U${n}` }),
    })));
    const batch = await client.invoke(
      addr,
      createRequest(
        RequestCode.SEND_BATCH_MESSAGE,
        toExtFields({
          a: "P",
          b: "AutoTopic",
          c: "TBW102",
          d: 4,
          e: 1,
          f: 0,
          g: Date.now(),
          h: 0,
          i: encodeProperties({ WAIT: "true" }),
          j: 0,
          k: false,
          m: true,
        }),
        { body },
      ),
    );
    assert.equal(batch.code, ResponseCode.SUCCESS, batch.remark);
    assert.equal(batch.extFields.msgId.split(",").length, 3);
    assert.equal(batch.extFields.queueOffset, "0");
    const { messages } = await pull(client, addr, { group: "G", topic: "AutoTopic", queueId: 1, queueOffset: 0 });
    assert.deepEqual(messages.map((m) => [m.queueOffset, m.flag, decoder.decode(m.body)]), [
      [0, 1, "m1"],
      [1, 2, "m2"],
      [2, 3, "m3"],
    ]);
    assert.equal(parseProperties(messages[2].properties).get("CLUSTER"), "DefaultCluster");

    // The VIP port (listenPort - 2) serves everything but PULL_MESSAGE.
    const vip = `127.0.0.1:${cluster.brokerPort - 2}`;
    assert.equal((await sendV2(client, vip, { topic: "AutoTopic", body: "via vip" })).code, ResponseCode.SUCCESS);
    const vipPull = await pull(client, vip, { group: "G", topic: "AutoTopic", queueId: 1, queueOffset: 0 });
    assert.equal(vipPull.response.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker: with autoCreateTopicEnable=false an unknown topic is TOPIC_NOT_EXIST and the trace topic still exists", async () => {
  const cluster = await startCluster({ autoCreateTopicEnable: "false" });
  const client = new RemotingClient();
  try {
    const refused = await sendV2(client, cluster.brokerAddr, { topic: "NoSuchTopic", body: "x" });
    assert.equal(refused.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(refused.remark ?? "", /topic\[NoSuchTopic\] not exist/);
    const trace = await sendV2(client, cluster.brokerAddr, { topic: "RMQ_SYS_TRACE_TOPIC", body: "trace" });
    assert.equal(trace.code, ResponseCode.SUCCESS, "RMQ_SYS_TRACE_TOPIC exists by default");
  } finally {
    await client.close();
    await cluster.close();
  }
});
