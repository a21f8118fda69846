import assert from "node:assert/strict";
import { readConsumerConnection, readConsumeStats, readResetOffsetBody, readTopicStatsTable } from "./bodies.ts";

const encoder = new TextEncoder();
const mq = (queueId: number) => `{"brokerName":"broker-a","queueId":${queueId},"topic":"T"}`;

Deno.test("readTopicStatsTable() reads fastjson's MessageQueue object keys, sorted by queue", () => {
  const body = `{"offsetTable":{${mq(1)}:{"lastUpdateTimestamp":5,"maxOffset":9,"minOffset":2},${
    mq(0)
  }:{"lastUpdateTimestamp":0,"maxOffset":0,"minOffset":0}}}`;
  assert.deepEqual(readTopicStatsTable(encoder.encode(body)), [
    { topic: "T", brokerName: "broker-a", queueId: 0, minOffset: 0, maxOffset: 0, lastUpdateTimestamp: 0 },
    { topic: "T", brokerName: "broker-a", queueId: 1, minOffset: 2, maxOffset: 9, lastUpdateTimestamp: 5 },
  ]);
  assert.deepEqual(readTopicStatsTable(encoder.encode(`{"offsetTable":{}}`)), []);
});

Deno.test("readConsumeStats(), readResetOffsetBody() and readConsumerConnection() read RocketMQ's shapes", () => {
  const stats = readConsumeStats(
    encoder.encode(
      `{"consumeTps":1.5,"offsetTable":{${mq(0)}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":7}}}`,
    ),
  );
  assert.deepEqual(stats, {
    consumeTps: 1.5,
    queues: [{ topic: "T", brokerName: "broker-a", queueId: 0, brokerOffset: 10, consumerOffset: 4, lastTimestamp: 7 }],
  });
  assert.deepEqual(readResetOffsetBody(encoder.encode(`{"offsetTable":{${mq(3)}:42}}`)), [
    { topic: "T", brokerName: "broker-a", queueId: 3, offset: 42 },
  ]);
  const connection = readConsumerConnection(encoder.encode(JSON.stringify({
    connectionSet: [{ clientAddr: "1.2.3.4:5", clientId: "c1", language: "JAVA", version: 407 }],
    consumeType: "CONSUME_PASSIVELY",
    messageModel: "CLUSTERING",
    consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
    subscriptionTable: { T: { subString: "a || b", expressionType: "TAG", topic: "T" } },
  })));
  assert.deepEqual(connection.connections, [{
    clientId: "c1",
    clientAddr: "1.2.3.4:5",
    language: "JAVA",
    version: 407,
  }]);
  assert.deepEqual(connection.subscriptions, [{ topic: "T", subString: "a || b", expressionType: "TAG" }]);
});
