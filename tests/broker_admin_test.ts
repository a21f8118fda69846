/**
 * End-to-end admin codes against real `nameserver` and `broker` processes, driven with raw
 * requests: the reply shapes RocketMQ's `mqadmin` and `DefaultMQAdminExt` read (fastjson bodies,
 * MessageQueue-keyed maps in object-key form, KVTable keys, properties text) and the error codes
 * and remarks they print. A RemotingClient with `onServerRequest` plays a consumer for the codes
 * the broker relays (307, 309, 221) or announces (220). `tests/manual/mqadmin_check.sh` runs the
 * real mqadmin against a cluster for the same paths.
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { decodeJsonBody, parseJavaProperties } from "../protocol/bodies.ts";
import { createRequest, createResponse, type RemotingCommand } from "../protocol/command.ts";
import { parseFastJson } from "../protocol/fastjson.ts";
import { toExtFields } from "../protocol/header.ts";
import { decodeMessageRecords } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { startCluster, waitFor } from "./_process.ts";
import { createTopic, heartbeat, pull, sendV2 } from "./_wire.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

type Ext = Record<string, string | number | boolean | undefined>;

function call(
  client: RemotingClient,
  addr: string,
  code: number,
  ext: Ext = {},
  body?: string | Uint8Array,
): Promise<RemotingCommand> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  return client.invoke(addr, createRequest(code, toExtFields(ext), { body: bytes }), 15_000);
}

function text(response: RemotingCommand): string {
  assert.ok(response.body, `expected a body (code ${response.code}, remark ${response.remark})`);
  return decoder.decode(response.body);
}

/** Parses a fastjson body; object-keyed maps come back as `Map`s. */
function json(response: RemotingCommand): Record<string, unknown> {
  return parseFastJson(text(response)) as Record<string, unknown>;
}

interface Mq {
  brokerName: string;
  queueId: number;
  topic: string;
}

/** A MessageQueue-keyed map as `queueId → value` for one topic; asserts the object-key form. */
function byQueue<T>(table: unknown, topic: string): Map<number, T> {
  assert.ok(table instanceof Map, `expected a MessageQueue-keyed map, got ${JSON.stringify(table)}`);
  const out = new Map<number, T>();
  for (const [key, value] of table as Map<Mq, T>) {
    assert.deepEqual(Object.keys(key), ["brokerName", "queueId", "topic"]);
    assert.equal(key.brokerName, "broker-a");
    if (key.topic === topic) out.set(key.queueId, value);
  }
  return out;
}

function updateOffset(client: RemotingClient, addr: string, group: string, topic: string, queueId: number, n: number) {
  return call(client, addr, RequestCode.UPDATE_CONSUMER_OFFSET, {
    consumerGroup: group,
    topic,
    queueId,
    commitOffset: n,
  });
}

Deno.test("broker admin: subscription groups, system topics, broker config and runtime info", async () => {
  const cluster = await startCluster();
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    // 201: subscriptionGroup.json with the system groups and a data version.
    const all = json(await call(client, addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG));
    const table = all.subscriptionGroupTable as Record<string, Record<string, unknown>>;
    assert.ok(table.TOOLS_CONSUMER, "system groups are listed");
    assert.equal(typeof (all.dataVersion as { counter: number }).counter, "number");

    // 200: create from a SubscriptionGroupConfig body; 201 shows it.
    const config = {
      brokerId: 0,
      consumeBroadcastEnable: false,
      consumeEnable: true,
      consumeFromMinEnable: false,
      groupName: "AdminGroup",
      notifyConsumerIdsChangedEnable: true,
      retryMaxTimes: 5,
      retryQueueNums: 2,
      whichBrokerWhenConsumeSlowly: 1,
    };
    const created = await call(
      client,
      addr,
      RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
      {},
      JSON.stringify(config),
    );
    assert.equal(created.code, ResponseCode.SUCCESS, created.remark);
    const after = json(await call(client, addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG));
    assert.deepEqual((after.subscriptionGroupTable as Record<string, unknown>).AdminGroup, config);
    const blank = await call(client, addr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, '{"groupName":" "}');
    assert.equal(blank.code, ResponseCode.INVALID_PARAMETER);
    assert.match(blank.remark ?? "", /groupName is missing or blank/);
    const garbage = await call(client, addr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, "{nope");
    assert.equal(garbage.code, ResponseCode.INVALID_PARAMETER);

    // 207 with removeOffset: the group and its offsets go (43 no longer lists them).
    await createTopic(client, addr, "AdminTopic", 2);
    assert.equal((await updateOffset(client, addr, "AdminGroup", "AdminTopic", 0, 7)).code, ResponseCode.SUCCESS);
    assert.match(
      text(await call(client, addr, RequestCode.GET_ALL_CONSUMER_OFFSET)),
      /"AdminTopic@AdminGroup":\{0:7\}/,
    );
    const deleted = await call(client, addr, RequestCode.DELETE_SUBSCRIPTIONGROUP, {
      groupName: "AdminGroup",
      removeOffset: true,
    });
    assert.equal(deleted.code, ResponseCode.SUCCESS);
    assert.doesNotMatch(text(await call(client, addr, RequestCode.GET_ALL_CONSUMER_OFFSET)), /AdminGroup/);
    const gone = json(await call(client, addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG));
    assert.equal((gone.subscriptionGroupTable as Record<string, unknown>).AdminGroup, undefined);
    const again = await call(client, addr, RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: "AdminGroup" });
    assert.equal(again.code, ResponseCode.SUCCESS, "deleting an unknown group succeeds, as in RocketMQ");
    const noName = await call(client, addr, RequestCode.DELETE_SUBSCRIPTIONGROUP, {});
    assert.equal(noName.code, ResponseCode.INVALID_PARAMETER);

    // 305: the reserved names.
    const system = json(await call(client, addr, RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER));
    assert.equal(system.brokerAddr, undefined);
    for (const topic of ["TBW102", "SCHEDULE_TOPIC_XXXX", "DefaultCluster", "broker-a", "RMQ_SYS_TRACE_TOPIC"]) {
      assert.ok((system.topicList as string[]).includes(topic), topic);
    }

    // 26: properties text, the config's data version in the `version` header.
    const got = await call(client, addr, RequestCode.GET_BROKER_CONFIG);
    assert.equal(got.code, ResponseCode.SUCCESS);
    const version0 = JSON.parse(got.extFields.version) as { counter: number; timestamp: number };
    assert.deepEqual(Object.keys(version0), ["counter", "timestamp"]);
    const props = parseJavaProperties(text(got));
    assert.equal(props.get("brokerName"), "broker-a");
    assert.equal(props.get("autoCreateTopicEnable"), "true");

    // 25: a run-time key applies and bumps the version; restart-only, unknown and bad values refuse it all.
    const updated = await call(client, addr, RequestCode.UPDATE_BROKER_CONFIG, {}, "autoCreateTopicEnable=false\n");
    assert.equal(updated.code, ResponseCode.SUCCESS, updated.remark);
    const got2 = await call(client, addr, RequestCode.GET_BROKER_CONFIG);
    assert.equal(parseJavaProperties(text(got2)).get("autoCreateTopicEnable"), "false");
    assert.equal(JSON.parse(got2.extFields.version).counter, version0.counter + 1);
    assert.equal(
      (await sendV2(client, addr, { topic: "NotAutoCreated", body: "x" })).code,
      ResponseCode.TOPIC_NOT_EXIST,
    );
    for (
      const [body, pattern] of [
        ["brokerName=other\ndefaultTopicQueueNums=2", /"brokerName" can only be changed in broker\.conf/],
        ["noSuchKey=1", /unknown key "noSuchKey"/],
        ["defaultTopicQueueNums=abc", /"defaultTopicQueueNums".*expected an integer/],
      ] as const
    ) {
      const refused = await call(client, addr, RequestCode.UPDATE_BROKER_CONFIG, {}, body);
      assert.equal(refused.code, ResponseCode.SYSTEM_ERROR, body);
      assert.match(refused.remark ?? "", pattern);
    }
    const got3 = parseJavaProperties(text(await call(client, addr, RequestCode.GET_BROKER_CONFIG)));
    assert.equal(got3.get("defaultTopicQueueNums"), "8", "a refused update changes nothing");
    assert.equal(got3.get("brokerName"), "broker-a");

    // brokerPermission reaches the NameServer's routes (read-only broker: perm 4).
    const wiped = await call(client, addr, RequestCode.UPDATE_BROKER_CONFIG, {}, "brokerPermission=4");
    assert.equal(wiped.code, ResponseCode.SUCCESS, wiped.remark);
    await waitFor(
      async () => {
        const route = await call(client, cluster.namesrv, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "AdminTopic" });
        return (decodeJsonBody(route.body, "route") as { queueDatas: { perm: number }[] }).queueDatas[0].perm === 4;
      },
      5000,
      "the route to show perm 4",
    );
    assert.equal((await call(client, addr, RequestCode.UPDATE_BROKER_CONFIG, {}, "brokerPermission=6")).code, 0);

    // 28: the KVTable mqadmin clusterList/brokerStatus read.
    assert.equal((await sendV2(client, addr, { topic: "AdminTopic", body: "counted" })).code, ResponseCode.SUCCESS);
    const runtime = json(await call(client, addr, RequestCode.GET_BROKER_RUNTIME_INFO)).table as Record<string, string>;
    assert.equal(runtime.brokerVersionDesc, "V4_9_7");
    assert.equal(runtime.brokerVersion, "407");
    for (const key of ["putTps", "getTransferedTps", "getFoundTps"]) {
      assert.match(runtime[key], /^\d+\.\d+(E-?\d+)? \d+\.\d+(E-?\d+)? \d+\.\d+(E-?\d+)?$/, key);
    }
    assert.equal(runtime.msgPutTotalTodayNow, "1");
    assert.equal(runtime.msgPutTotalTodayMorning, "0");
    assert.ok(Number(runtime.commitLogMaxOffset) > 0);
    assert.equal(runtime.commitLogMinOffset, "0");
    assert.ok(Number(runtime.earliestMessageTimeStamp) > Date.now() - 60_000);
    assert.match(runtime.commitLogDiskRatio, /^(0|1)\.\d+$/);
    assert.match(runtime.commitLogDirCapacity, /^Total : [\d.]+ [KMGTPE]?i?B, Free : [\d.]+ [KMGTPE]?i?B\.$/);
    for (const lane of ["send", "pull", "query"]) {
      assert.equal(runtime[`${lane}ThreadPoolQueueSize`], "0");
      assert.match(runtime[`${lane}ThreadPoolQueueCapacity`], /^[1-9]\d*$/);
      assert.equal(runtime[`${lane}ThreadPoolQueueHeadWaitTimeMills`], "0");
    }
    assert.equal(runtime.pageCacheLockTimeMills, "0");
    assert.match(runtime.runtime, /^\[ 0 days, 0 hours, \d+ minutes, \d+ seconds \]$/);

    // Housekeeping codes answer SUCCESS.
    for (const code of [RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE, RequestCode.CLEAN_UNUSED_TOPIC]) {
      assert.equal((await call(client, addr, code)).code, ResponseCode.SUCCESS);
    }
    assert.equal((await call(client, addr, RequestCode.DELETE_EXPIRED_COMMITLOG)).code, ResponseCode.SUCCESS);
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker admin: topic and consume stats, time spans, stats data, consume queues and offset tables", async () => {
  const cluster = await startCluster();
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    await createTopic(client, addr, "StatsTopic", 4);
    await createTopic(client, addr, "%RETRY%StatsGroup", 1); // what the group's first heartbeat would create
    for (const queueId of [0, 0, 0, 2]) {
      const sent = await sendV2(client, addr, { topic: "StatsTopic", queueId, body: `m${queueId}` });
      assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark);
    }
    for (const [queueId, offset] of [[0, 2], [1, 0], [2, 1], [3, 0]]) {
      await updateOffset(client, addr, "StatsGroup", "StatsTopic", queueId, offset);
    }
    await updateOffset(client, addr, "StatsGroup", "%RETRY%StatsGroup", 0, 0);
    await updateOffset(client, addr, "OtherGroup", "StatsTopic", 0, 1);
    // A pull counts toward GROUP_GET_NUMS and consumeTps.
    const pulled = await pull(client, addr, { group: "StatsGroup", topic: "StatsTopic", queueId: 0, queueOffset: 0 });
    assert.equal(pulled.messages.length, 3);

    // 202: per write queue min, max and last store time, MessageQueue keys in object-key form.
    const statsReply = await call(client, addr, RequestCode.GET_TOPIC_STATS_INFO, { topic: "StatsTopic" });
    assert.match(text(statsReply), /^\{"offsetTable":\{\{"brokerName":"broker-a","queueId":0,"topic":"StatsTopic"\}:/);
    const topicStats = byQueue<{ lastUpdateTimestamp: number; maxOffset: number; minOffset: number }>(
      json(statsReply).offsetTable,
      "StatsTopic",
    );
    assert.equal(topicStats.size, 4);
    assert.deepEqual(Object.keys(topicStats.get(0)!), ["lastUpdateTimestamp", "maxOffset", "minOffset"]);
    assert.equal(topicStats.get(0)!.maxOffset, 3);
    assert.equal(topicStats.get(0)!.minOffset, 0);
    assert.equal(topicStats.get(0)!.lastUpdateTimestamp, pulled.messages[2].storeTimestamp);
    assert.deepEqual(topicStats.get(1), { lastUpdateTimestamp: 0, maxOffset: 0, minOffset: 0 });
    const noTopic = await call(client, addr, RequestCode.GET_TOPIC_STATS_INFO, { topic: "Nope" });
    assert.equal(noTopic.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.equal(noTopic.remark, "topic[Nope] not exist");

    // 208: every topic the group committed on, its retry queue included.
    const consume = json(await call(client, addr, RequestCode.GET_CONSUME_STATS, { consumerGroup: "StatsGroup" }));
    assert.deepEqual(Object.keys(consume), ["consumeTps", "offsetTable"]);
    assert.ok((consume.consumeTps as number) > 0, "the pull shows in consumeTps");
    type Wrapper = { brokerOffset: number; consumerOffset: number; lastTimestamp: number };
    const offsets = byQueue<Wrapper>(consume.offsetTable, "StatsTopic");
    assert.equal(offsets.size, 4);
    assert.deepEqual(offsets.get(0), {
      brokerOffset: 3,
      consumerOffset: 2,
      lastTimestamp: pulled.messages[1].storeTimestamp,
    });
    assert.deepEqual(offsets.get(1), { brokerOffset: 0, consumerOffset: 0, lastTimestamp: 0 });
    assert.deepEqual(byQueue<Wrapper>(consume.offsetTable, "%RETRY%StatsGroup").get(0), {
      brokerOffset: 0,
      consumerOffset: 0,
      lastTimestamp: 0,
    });
    const oneTopic = json(
      await call(client, addr, RequestCode.GET_CONSUME_STATS, { consumerGroup: "StatsGroup", topic: "StatsTopic" }),
    );
    assert.equal((oneTopic.offsetTable as Map<Mq, Wrapper>).size, 4, "only the named topic");
    const unknown = json(await call(client, addr, RequestCode.GET_CONSUME_STATS, { consumerGroup: "NoGroup" }));
    assert.deepEqual(unknown, { consumeTps: 0, offsetTable: {} });

    // 317: every group's stats per topic, and the total lag.
    const brokerStats = json(await call(client, addr, RequestCode.GET_BROKER_CONSUME_STATS, { isOrder: false }));
    assert.equal(brokerStats.brokerAddr, addr);
    const list = brokerStats.consumeStatsList as Record<string, unknown[]>[];
    assert.equal(list.find((entry) => "StatsGroup" in entry)?.StatsGroup.length, 2, "StatsTopic and the retry topic");
    // Only groups in the subscription-group table count (the pull auto-created StatsGroup; OtherGroup only committed).
    assert.equal(list.find((entry) => "OtherGroup" in entry), undefined);
    assert.equal(brokerStats.totalDiff, 1, "StatsGroup lags 1 on queue 0");
    const ordered = json(await call(client, addr, RequestCode.GET_BROKER_CONSUME_STATS, { isOrder: true }));
    assert.equal(ordered.totalDiff, 0, "no ordered topics");

    // 303: store times of the first, last and next message per write queue, with Java date strings.
    const span = json(
      await call(client, addr, RequestCode.QUERY_CONSUME_TIME_SPAN, { topic: "StatsTopic", group: "StatsGroup" }),
    );
    const spans = span.consumeTimeSpanSet as Record<string, unknown>[];
    assert.equal(spans.length, 4);
    assert.deepEqual(Object.keys(spans[0]), [
      "consumeTimeStamp",
      "consumeTimeStampStr",
      "delayTime",
      "maxTimeStamp",
      "maxTimeStampStr",
      "messageQueue",
      "minTimeStamp",
      "minTimeStampStr",
    ]);
    assert.equal(spans[0].minTimeStamp, pulled.messages[0].storeTimestamp);
    assert.equal(spans[0].maxTimeStamp, pulled.messages[2].storeTimestamp);
    assert.equal(spans[0].consumeTimeStamp, pulled.messages[1].storeTimestamp);
    assert.ok((spans[0].delayTime as number) >= 0);
    assert.match(spans[0].minTimeStampStr as string, /^\d{4}-\d\d-\d\d#\d\d:\d\d:\d\d:\d{3}$/);
    assert.equal(spans[1].minTimeStamp, -1, "an empty queue has no times");
    assert.deepEqual(spans[3].messageQueue, { brokerName: "broker-a", queueId: 3, topic: "StatsTopic" });
    const spanMissing = await call(client, addr, RequestCode.QUERY_CONSUME_TIME_SPAN, { topic: "Nope", group: "G" });
    assert.equal(spanMissing.code, ResponseCode.TOPIC_NOT_EXIST);

    // 315: minute, hour and day windows of a counter; unknown names and keys are SYSTEM_ERROR.
    const puts = json(
      await call(client, addr, RequestCode.VIEW_BROKER_STATS_DATA, {
        statsName: "TOPIC_PUT_NUMS",
        statsKey: "StatsTopic",
      }),
    );
    assert.deepEqual(Object.keys(puts), ["statsDay", "statsHour", "statsMinute"]);
    for (const window of ["statsDay", "statsHour"] as const) {
      assert.deepEqual(puts[window], { avgpt: 1, sum: 4, tps: 4 / (window === "statsDay" ? 86_400 : 3600) });
    }
    const gets = json(
      await call(client, addr, RequestCode.VIEW_BROKER_STATS_DATA, {
        statsName: "GROUP_GET_NUMS",
        statsKey: "StatsTopic@StatsGroup",
      }),
    );
    assert.equal((gets.statsHour as { sum: number }).sum, 3);
    const noStats = await call(client, addr, RequestCode.VIEW_BROKER_STATS_DATA, {
      statsName: "GROUP_GET_NUMS",
      statsKey: "StatsTopic@Nobody",
    });
    assert.equal(noStats.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(noStats.remark, "The stats <GROUP_GET_NUMS> <StatsTopic@Nobody> not exist");

    // 321: consume-queue units with the group's subscription state.
    const cq = json(
      await call(client, addr, RequestCode.QUERY_CONSUME_QUEUE, {
        topic: "StatsTopic",
        queueId: 0,
        index: 1,
        count: 5,
        consumerGroup: "StatsGroup",
      }),
    );
    assert.equal(cq.maxQueueIndex, 3);
    assert.equal(cq.minQueueIndex, 0);
    assert.equal(cq.filterData, "StatsGroup@StatsTopic is not online!");
    const units = cq.queueData as Record<string, unknown>[];
    assert.equal(units.length, 2, "from index 1 to the end");
    assert.deepEqual(Object.keys(units[0]), ["eval", "physicOffset", "physicSize", "tagsCode"]);
    assert.equal(units[0].physicOffset, pulled.messages[1].commitLogOffset);
    const pastEnd = await call(client, addr, RequestCode.QUERY_CONSUME_QUEUE, {
      topic: "StatsTopic",
      queueId: 0,
      index: 10,
      count: 1,
    });
    assert.equal(pastEnd.code, ResponseCode.SUCCESS);
    assert.equal(pastEnd.remark, "Index 10 of 0@StatsTopic is not exist!");
    assert.equal(pastEnd.body, undefined);
    const noQueue = await call(client, addr, RequestCode.QUERY_CONSUME_QUEUE, {
      topic: "Nope",
      queueId: 0,
      index: 0,
      count: 1,
    });
    assert.equal(noQueue.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(noQueue.remark, "0@Nope is not exist!");

    // 308: the lowest committed offset of the other groups, Long.MAX_VALUE where it is above the compared group's.
    const correction = text(
      await call(client, addr, RequestCode.QUERY_CORRECTION_OFFSET, {
        topic: "StatsTopic",
        compareGroup: "StatsGroup",
      }),
    );
    assert.equal(correction, '{"correctionOffsets":{0:1,1:0,2:1,3:0}}');
    const filtered = text(
      await call(client, addr, RequestCode.QUERY_CORRECTION_OFFSET, {
        topic: "StatsTopic",
        compareGroup: "OtherGroup",
        filterGroups: "OtherGroup",
      }),
    );
    assert.equal(filtered, '{"correctionOffsets":{0:9223372036854775807,1:0,2:1,3:0}}');
    assert.match(
      text(await call(client, addr, RequestCode.GET_ALL_CONSUMER_OFFSET)),
      /"StatsTopic@OtherGroup":\{0:1\}/,
    );

    // 314: clone every topic of a group; 43 shows the copy with bare integer keys.
    const cloned = await call(client, addr, RequestCode.CLONE_GROUP_OFFSET, {
      srcGroup: "StatsGroup",
      destGroup: "CloneGroup",
      offline: true,
    });
    assert.equal(cloned.code, ResponseCode.SUCCESS);
    const allOffsets = text(await call(client, addr, RequestCode.GET_ALL_CONSUMER_OFFSET));
    assert.match(allOffsets, /^\{"offsetTable":\{/);
    assert.match(allOffsets, /"StatsTopic@CloneGroup":\{0:2,1:0,2:1,3:0\}/);
    assert.match(allOffsets, /"%RETRY%StatsGroup@CloneGroup":\{0:0\}/);

    // 45: delayOffset.json; a delivered delay level shows with a bare integer key.
    const delayed = await sendV2(client, addr, { topic: "StatsTopic", body: "later", properties: { DELAY: "1" } });
    assert.equal(delayed.code, ResponseCode.SUCCESS);
    await waitFor(
      async () => {
        return /^\{"offsetTable":\{1:1\}\}$/.test(text(await call(client, addr, RequestCode.GET_ALL_DELAY_OFFSET)));
      },
      8000,
      "delay level 1 to be delivered",
    );

    // 300: groups with offsets on the topic.
    const who = json(await call(client, addr, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic: "StatsTopic" }));
    assert.deepEqual(new Set(who.groupList as string[]), new Set(["StatsGroup", "OtherGroup", "CloneGroup"]));
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("broker admin: connections, and calls relayed to a consumer (307, 309, 221) or announced to it (220)", async () => {
  // Relayed calls time out after 1.5 s here instead of 10 s.
  const cluster = await startCluster({ clientRequestTimeoutMills: "1500" });
  const addr = cluster.brokerAddr;
  const seen: RemotingCommand[] = [];
  const consumer = new RemotingClient({
    onServerRequest(request) {
      seen.push(request);
      switch (request.code) {
        case RequestCode.GET_CONSUMER_RUNNING_INFO:
          if (request.extFields.jstackEnable === "true") return new Promise(() => {}); // never answers
          return createResponse(request, ResponseCode.SUCCESS, {
            body: encoder.encode('{"jstack":"","mqTable":{},"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY"}}'),
          });
        case RequestCode.CONSUME_MESSAGE_DIRECTLY:
          return createResponse(request, ResponseCode.SUCCESS, {
            body: encoder.encode('{"autoCommit":true,"consumeResult":"CR_SUCCESS","order":false,"spentTimeMills":1}'),
          });
        case RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT:
          return createResponse(request, ResponseCode.SUCCESS, {
            body: encoder.encode(
              '{"consumerTable":{},"messageQueueTable":{{"brokerName":"broker-a","queueId":1,"topic":"RelayTopic"}:5}}',
            ),
          });
        default:
          return null;
      }
    },
  });
  const admin = new RemotingClient();
  const clientId = "127.0.0.1@relay";
  try {
    await createTopic(admin, addr, "RelayTopic", 2);
    const sent = await sendV2(admin, addr, {
      topic: "RelayTopic",
      queueId: 1,
      body: "direct",
      properties: { KEYS: "k" },
    });
    assert.equal(sent.code, ResponseCode.SUCCESS);
    const hb = await consumer.invoke(
      addr,
      heartbeat(clientId, "RelayGroup", ["RelayTopic", "%RETRY%RelayGroup"], {
        consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
        producerGroup: "PG",
      }),
    );
    assert.equal(hb.code, ResponseCode.SUCCESS);
    const consumerAddr = await consumer.localAddrTo(addr);

    // 203: connections and subscriptions; an unknown group is CONSUMER_NOT_ONLINE.
    const conn = json(
      await call(admin, addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: "RelayGroup" }),
    );
    assert.deepEqual(Object.keys(conn), [
      "connectionSet",
      "consumeFromWhere",
      "consumeType",
      "messageModel",
      "subscriptionTable",
    ]);
    assert.deepEqual(conn.connectionSet, [{ clientAddr: consumerAddr, clientId, language: "JAVA", version: 407 }]);
    assert.equal(conn.consumeType, "CONSUME_PASSIVELY");
    assert.equal(conn.messageModel, "CLUSTERING");
    const subs = conn.subscriptionTable as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(subs).sort(), ["%RETRY%RelayGroup", "RelayTopic"]);
    assert.equal(subs.RelayTopic.subString, "*");
    const offline = await call(admin, addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: "Nobody" });
    assert.equal(offline.code, ResponseCode.CONSUMER_NOT_ONLINE);
    assert.equal(offline.remark, "the consumer group[Nobody] not online");

    // 204 and 328: producers.
    const producers = json(await call(admin, addr, RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: "PG" }));
    assert.deepEqual(producers.connectionSet, [{ clientAddr: consumerAddr, clientId, language: "JAVA", version: 407 }]);
    const noProducer = await call(admin, addr, RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: "NoPG" });
    assert.equal(noProducer.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(noProducer.remark, "the producer group[NoPG] not exist");
    const producerInfo = json(await call(admin, addr, RequestCode.GET_ALL_PRODUCER_INFO));
    const pg = (producerInfo.data as Record<string, Record<string, unknown>[]>).PG;
    assert.deepEqual(Object.keys(pg[0]), ["clientId", "language", "lastUpdateTimestamp", "remoteIP", "version"]);
    assert.equal(pg[0].remoteIP, `/${consumerAddr}`, "Java's SocketAddress text");

    // 300: a subscribed group counts even without offsets.
    const who = json(await call(admin, addr, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic: "RelayTopic" }));
    assert.deepEqual(who.groupList, ["RelayGroup"]);

    // 307: forwarded with its header, answered as the client answered.
    const running = await call(admin, addr, RequestCode.GET_CONSUMER_RUNNING_INFO, {
      consumerGroup: "RelayGroup",
      clientId,
      jstackEnable: false,
    });
    assert.equal(running.code, ResponseCode.SUCCESS, running.remark);
    assert.equal(text(running), '{"jstack":"","mqTable":{},"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY"}}');
    const forwarded = seen.find((r) => r.code === RequestCode.GET_CONSUMER_RUNNING_INFO)!;
    assert.equal(forwarded.extFields.consumerGroup, "RelayGroup");
    assert.equal(forwarded.extFields.clientId, clientId);
    const notOnline = await call(admin, addr, RequestCode.GET_CONSUMER_RUNNING_INFO, {
      consumerGroup: "RelayGroup",
      clientId: "nobody",
    });
    assert.equal(notOnline.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(notOnline.remark, "The Consumer <RelayGroup> <nobody> not online");
    const silent = await call(admin, addr, RequestCode.GET_CONSUMER_RUNNING_INFO, {
      consumerGroup: "RelayGroup",
      clientId,
      jstackEnable: true,
    });
    assert.equal(silent.code, ResponseCode.CONSUME_MSG_TIMEOUT);
    assert.match(silent.remark ?? "", /^consumer <RelayGroup> <127\.0\.0\.1@relay> Timeout: /);

    // 309: the stored message goes to the client with this broker's name.
    const direct = await call(admin, addr, RequestCode.CONSUME_MESSAGE_DIRECTLY, {
      consumerGroup: "RelayGroup",
      clientId,
      msgId: sent.extFields.msgId,
    });
    assert.equal(direct.code, ResponseCode.SUCCESS, direct.remark);
    assert.match(text(direct), /"consumeResult":"CR_SUCCESS"/);
    const delivered = seen.find((r) => r.code === RequestCode.CONSUME_MESSAGE_DIRECTLY)!;
    assert.equal(delivered.extFields.brokerName, "broker-a");
    const [record] = decodeMessageRecords(delivered.body!);
    assert.equal(decoder.decode(record.body), "direct");
    assert.equal(record.topic, "RelayTopic");
    const noMessage = await call(admin, addr, RequestCode.CONSUME_MESSAGE_DIRECTLY, {
      consumerGroup: "RelayGroup",
      clientId,
      msgId: "7F00000100002A9F00000000FFFFFFFF",
    });
    assert.equal(noMessage.code, ResponseCode.SYSTEM_ERROR);

    // 223: every client's offsets, through GET_CONSUMER_STATUS_FROM_CLIENT.
    const statusReply = await call(admin, addr, RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS, {
      topic: "RelayTopic",
      group: "RelayGroup",
    });
    assert.equal(statusReply.code, ResponseCode.SUCCESS, statusReply.remark);
    const status = json(statusReply);
    assert.deepEqual(Object.keys(status), ["consumerTable", "messageQueueTable"]);
    const clientTable = byQueue<number>((status.consumerTable as Record<string, unknown>)[clientId], "RelayTopic");
    assert.equal(clientTable.get(1), 5);
    const asked = seen.find((r) => r.code === RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT)!;
    assert.deepEqual(asked.extFields, { topic: "RelayTopic", group: "RelayGroup" });
    const nobodyStatus = await call(admin, addr, RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS, {
      topic: "RelayTopic",
      group: "Nobody",
    });
    assert.equal(nobodyStatus.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(nobodyStatus.remark, "No Any Consumer online in the consumer group: [Nobody]");

    // 222: without committed offsets RocketMQ refuses; then offsets by time go to the client (220) and are committed.
    const reset = (group: string, topic = "RelayTopic") =>
      call(admin, addr, RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic, group, timestamp: 0, isForce: true });
    const noOffsets = await reset("RelayGroup");
    assert.equal(noOffsets.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(noOffsets.remark, "THe consumer group <RelayGroup> not exist");
    await updateOffset(admin, addr, "RelayGroup", "RelayTopic", 0, 0);
    await updateOffset(admin, addr, "RelayGroup", "RelayTopic", 1, 1);
    const resetReply = await reset("RelayGroup");
    assert.equal(resetReply.code, ResponseCode.SUCCESS, resetReply.remark);
    assert.equal(
      text(resetReply),
      '{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"RelayTopic"}:0,' +
        '{"brokerName":"broker-a","queueId":1,"topic":"RelayTopic"}:0}}',
    );
    const notice = await waitFor(() => seen.find((r) => r.code === RequestCode.RESET_CONSUMER_CLIENT_OFFSET), 5000);
    assert.deepEqual(notice.extFields, { topic: "RelayTopic", group: "RelayGroup", timestamp: "0", isForce: "false" });
    assert.equal(decoder.decode(notice.body), decoder.decode(resetReply.body));
    const query = await call(admin, addr, RequestCode.QUERY_CONSUMER_OFFSET, {
      consumerGroup: "RelayGroup",
      topic: "RelayTopic",
      queueId: 1,
    });
    assert.equal(query.extFields.offset, "0", "the reset is committed on the broker too");
    await updateOffset(admin, addr, "OfflineGroup", "RelayTopic", 0, 0);
    await updateOffset(admin, addr, "OfflineGroup", "RelayTopic", 1, 0);
    const offlineReset = await reset("OfflineGroup");
    assert.equal(offlineReset.code, ResponseCode.CONSUMER_NOT_ONLINE);
    assert.equal(
      offlineReset.remark,
      "Consumer not online, so can not reset offset, Group: OfflineGroup Topic: RelayTopic Timestamp: 0",
    );
    const noTopic = await reset("RelayGroup", "Nope");
    assert.equal(noTopic.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(noTopic.remark, "[reset-offset] reset offset failed, no topic in this broker. topic=Nope");
  } finally {
    await consumer.close();
    await admin.close();
    await cluster.close();
  }
});

Deno.test("broker admin: a slave refuses subscription-group changes with RocketMQ's words", async () => {
  const cluster = await startCluster({ brokerRole: "SLAVE", brokerId: "1" });
  const client = new RemotingClient();
  try {
    const create = await call(client, cluster.brokerAddr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, "{}");
    const remove = await call(client, cluster.brokerAddr, RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: "G" });
    for (const reply of [create, remove]) {
      assert.equal(reply.code, ResponseCode.SYSTEM_ERROR);
      assert.equal(
        reply.remark,
        "Can't modify topic or subscription group from slave broker, please execute it from master broker.",
      );
    }
    assert.equal((await call(client, cluster.brokerAddr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)).code, 0);
  } finally {
    await client.close();
    await cluster.close();
  }
});
