/**
 * Transactional messages against a real broker: half messages stay invisible, END_TRANSACTION
 * commits or rolls back, undecided ones are checked back with the producer group, and those
 * never decided end in TRANS_CHECK_MAX_TIME_TOPIC.
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { encodeJsonBody } from "../protocol/bodies.ts";
import { createRequest, type RemotingCommand } from "../protocol/command.ts";
import { toExtFields } from "../protocol/header.ts";
import { decodeMessageRecord, decodeOffsetMessageId, MessageSysFlag, parseProperties } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { startCluster, waitFor } from "./_process.ts";
import { createTopic, pull, sendV2 } from "./_wire.ts";

const decoder = new TextDecoder();

async function sendHalf(client: RemotingClient, addr: string, body: string): Promise<RemotingCommand> {
  const sent = await client.invoke(
    addr,
    createRequest(
      RequestCode.SEND_MESSAGE_V2,
      toExtFields({
        a: "TxGroup",
        b: "TxTopic",
        c: "TBW102",
        d: 4,
        e: 1,
        f: MessageSysFlag.TRANSACTION_PREPARED_TYPE,
        g: Date.now(),
        h: 0,
        i: `TRAN_MSG\u0001true\u0002PGROUP\u0001TxGroup\u0002UNIQ_KEY\u0001U-${body}\u0002TAGS\u0001T`,
      }),
      { body: new TextEncoder().encode(body) },
    ),
  );
  assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark);
  return sent;
}

function endTransaction(sent: RemotingCommand, type: number, group = "TxGroup", fromCheck = false): RemotingCommand {
  return createRequest(
    RequestCode.END_TRANSACTION,
    toExtFields({
      producerGroup: group,
      tranStateTableOffset: sent.extFields.queueOffset,
      commitLogOffset: decodeOffsetMessageId(sent.extFields.msgId).commitLogOffset,
      commitOrRollback: type,
      fromTransactionCheck: fromCheck,
      msgId: "U",
    }),
  );
}

async function bodiesIn(client: RemotingClient, addr: string, topic: string, queueId: number): Promise<string[]> {
  const { messages } = await pull(client, addr, { group: "Reader", topic, queueId, queueOffset: 0, maxMsgNums: 32 });
  return messages.map((m) => decoder.decode(m.body));
}

Deno.test("transactions: half messages are invisible until committed; rollback discards; wrong group refused", async () => {
  const cluster = await startCluster();
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    await createTopic(client, addr, "TxTopic", 2);
    const committed = await sendHalf(client, addr, "commit-me");
    const rolledBack = await sendHalf(client, addr, "roll-me-back");
    assert.equal(committed.extFields.queueId, "1", "the reply names the requested queue");
    assert.deepEqual(await bodiesIn(client, addr, "TxTopic", 1), [], "half messages are not consumable");

    const wrong = await client.invoke(addr, endTransaction(committed, 8, "OtherGroup"));
    assert.equal(wrong.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(wrong.remark, "The producer group wrong");

    assert.equal((await client.invoke(addr, endTransaction(committed, 8))).code, ResponseCode.SUCCESS);
    assert.equal((await client.invoke(addr, endTransaction(rolledBack, 12))).code, ResponseCode.SUCCESS);
    const { messages } = await pull(client, addr, { group: "Reader", topic: "TxTopic", queueId: 1, queueOffset: 0 });
    assert.deepEqual(messages.map((m) => decoder.decode(m.body)), ["commit-me"]);
    const [m] = messages;
    assert.equal(m.sysFlag & MessageSysFlag.TRANSACTION_MASK, MessageSysFlag.TRANSACTION_COMMIT_TYPE);
    assert.equal(m.preparedTransactionOffset, decodeOffsetMessageId(committed.extFields.msgId).commitLogOffset);
    const props = Object.fromEntries(parseProperties(m.properties));
    assert.equal(props.TRAN_MSG, undefined);
    assert.equal(props.REAL_TOPIC, undefined);
    assert.equal(props.PGROUP, "TxGroup");
    // Two op records ("d") mark both half messages decided.
    const ops = await pull(client, addr, {
      group: "Reader",
      topic: "RMQ_SYS_TRANS_OP_HALF_TOPIC",
      queueId: 0,
      queueOffset: 0,
    });
    assert.deepEqual(ops.messages.map((o) => decoder.decode(o.body)).sort(), ["0", "1"]);
    // A normal send is unaffected.
    assert.equal(
      (await sendV2(client, addr, { topic: "TxTopic", queueId: 1, body: "plain" })).code,
      ResponseCode.SUCCESS,
    );
  } finally {
    await client.close();
    await cluster.close();
  }
});

Deno.test("transactions: an undecided half message is checked back with its producer group, which commits it", async () => {
  const cluster = await startCluster({ transactionTimeOut: "200", transactionCheckInterval: "300" });
  const addr = cluster.brokerAddr;
  const checks: { header: Record<string, string>; topic: string; body: string }[] = [];
  const producer: RemotingClient = new RemotingClient({
    onServerRequest(request) {
      if (request.code !== RequestCode.CHECK_TRANSACTION_STATE) return null;
      const message = decodeMessageRecord(request.body!);
      checks.push({ header: request.extFields, topic: message.topic, body: decoder.decode(message.body) });
      // Answer as a Java producer does: END_TRANSACTION with the check's offsets.
      void producer.invokeOneway(
        addr,
        createRequest(
          RequestCode.END_TRANSACTION,
          toExtFields({
            producerGroup: "TxGroup",
            tranStateTableOffset: request.extFields.tranStateTableOffset,
            commitLogOffset: request.extFields.commitLogOffset,
            commitOrRollback: 8,
            fromTransactionCheck: true,
            msgId: request.extFields.msgId,
            transactionId: request.extFields.transactionId,
          }),
        ),
      );
      return null;
    },
  });
  try {
    await createTopic(producer, addr, "TxTopic", 2);
    await producer.invoke(
      addr,
      createRequest(RequestCode.HEART_BEAT, {}, {
        body: encodeJsonBody({
          clientID: "127.0.0.1@tx",
          consumerDataSet: [],
          producerDataSet: [{ groupName: "TxGroup" }],
        }),
      }),
    );
    await sendHalf(producer, addr, "checked-back");
    const delivered = await waitFor(
      async () => (await bodiesIn(producer, addr, "TxTopic", 1)).includes("checked-back"),
      10_000,
      "commit after check-back",
    );
    assert.ok(delivered);
    assert.equal(checks.length, 1, "one check was enough");
    assert.equal(checks[0].topic, "TxTopic", "the check carries the message under its real topic");
    assert.equal(checks[0].body, "checked-back");
    assert.equal(checks[0].header.msgId, "U-checked-back");
  } finally {
    await producer.close();
    await cluster.close();
  }
});

Deno.test("transactions: a half message nobody decides goes to TRANS_CHECK_MAX_TIME_TOPIC after transactionCheckMax checks", async () => {
  const cluster = await startCluster({
    transactionTimeOut: "100",
    transactionCheckInterval: "200",
    transactionCheckMax: "2",
  });
  const client = new RemotingClient();
  try {
    await createTopic(client, cluster.brokerAddr, "TxTopic", 2);
    await sendHalf(client, cluster.brokerAddr, "forgotten");
    const parked = await waitFor(
      async () => (await bodiesIn(client, cluster.brokerAddr, "TRANS_CHECK_MAX_TIME_TOPIC", 0))[0],
      10_000,
      "parking",
    );
    assert.equal(parked, "forgotten");
    assert.deepEqual(await bodiesIn(client, cluster.brokerAddr, "TxTopic", 1), []);
  } finally {
    await client.close();
    await cluster.close();
  }
});
