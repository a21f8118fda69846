/**
 * RocketMQ 4.x plain ACL against a real broker process: signatures, accounts, permissions,
 * white lists, reload on change, and fail-closed start-up.
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { createRequest, type RemotingCommand } from "../protocol/command.ts";
import { encodeProperties } from "../protocol/message.ts";
import { toExtFields } from "../protocol/header.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { startCluster, startRole, tempDir, waitFor } from "./_process.ts";
import { signRequest } from "./_wire.ts";

const ACL = `
globalWhiteRemoteAddresses:
  - 10.10.103.*
accounts:
  - accessKey: producerAK
    secretKey: producerSecret
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - Orders=PUB
      - Audit=PUB|SUB
    groupPerms:
      - Blocked=DENY
  - accessKey: adminAK
    secretKey: adminSecret
    admin: true
`;

function send(topic: string): RemotingCommand {
  return createRequest(
    RequestCode.SEND_MESSAGE_V2,
    toExtFields({
      a: "P",
      b: topic,
      c: "TBW102",
      d: 4,
      e: 0,
      f: 0,
      g: Date.now(),
      h: 0,
      i: encodeProperties({ TAGS: "T" }),
      j: 0,
      k: false,
    }),
    { body: new TextEncoder().encode("secret payload") },
  );
}

function createTopic(topic: string): RemotingCommand {
  return createRequest(
    RequestCode.UPDATE_AND_CREATE_TOPIC,
    toExtFields({
      topic,
      defaultTopic: "TBW102",
      readQueueNums: 2,
      writeQueueNums: 2,
      perm: 6,
      topicFilterType: "SINGLE_TAG",
    }),
  );
}

Deno.test("ACL: unsigned, wrongly signed and unpermitted requests are refused as RocketMQ 4.9.7 refuses them", async () => {
  const dir = await tempDir("acl");
  await Deno.writeTextFile(`${dir.path}/plain_acl.yml`, ACL);
  const cluster = await startCluster({ aclEnable: "true", aclFile: `${dir.path}/plain_acl.yml` });
  const client = new RemotingClient();
  const addr = cluster.brokerAddr;
  try {
    const unsigned = await client.invoke(addr, send("Orders"));
    assert.equal(unsigned.code, ResponseCode.SYSTEM_ERROR);
    assert.match(
      unsigned.remark ?? "",
      /^org\.apache\.rocketmq\.acl\.common\.AclException: No accessKey is configured/,
    );

    const wrongSecret = await client.invoke(addr, await signRequest(send("Orders"), "producerAK", "not-the-secret"));
    assert.equal(wrongSecret.code, ResponseCode.SYSTEM_ERROR);
    assert.match(wrongSecret.remark ?? "", /AclException: Check signature failed for accessKey=producerAK/);

    const unknownKey = await client.invoke(addr, await signRequest(send("Orders"), "nobody", "whatever"));
    assert.match(unknownKey.remark ?? "", /No acl config for nobody/);

    // A tampered body breaks the signature (the body is signed too).
    const signed = await signRequest(send("Orders"), "producerAK", "producerSecret");
    const tampered = { ...signed, body: new TextEncoder().encode("other payload!") };
    assert.match((await client.invoke(addr, tampered)).remark ?? "", /Check signature failed/);

    // Creating topics needs an admin account.
    const notAdmin = await client.invoke(
      addr,
      await signRequest(createTopic("Orders"), "producerAK", "producerSecret"),
    );
    assert.match(notAdmin.remark ?? "", /Need admin permission for request code=17, but accessKey=producerAK is not/);
    const asAdmin = await client.invoke(addr, await signRequest(createTopic("Orders"), "adminAK", "adminSecret"));
    assert.equal(asAdmin.code, ResponseCode.SUCCESS, asAdmin.remark);

    const ok = await client.invoke(addr, signed);
    assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
    const denied = await client.invoke(addr, await signRequest(send("Payments"), "producerAK", "producerSecret"));
    assert.match(denied.remark ?? "", /No default permission for topic:Payments/);

    // Pulls need SUB on the topic and on the group.
    const pull = (group: string) =>
      createRequest(
        RequestCode.PULL_MESSAGE,
        toExtFields({
          consumerGroup: group,
          topic: "Audit",
          queueId: 0,
          queueOffset: 0,
          maxMsgNums: 1,
          sysFlag: 4,
          commitOffset: 0,
          suspendTimeoutMillis: 0,
          subscription: "*",
          subVersion: 0,
        }),
      );
    const blocked = await client.invoke(addr, await signRequest(pull("Blocked"), "producerAK", "producerSecret"));
    assert.match(blocked.remark ?? "", /No default permission for group:Blocked/);
    const allowed = await client.invoke(addr, await signRequest(pull("Readers"), "producerAK", "producerSecret"));
    assert.notEqual(allowed.code, ResponseCode.SYSTEM_ERROR, allowed.remark);

    // Unknown codes are still answered 3, before any ACL check (as RocketMQ does).
    assert.equal((await client.invoke(addr, createRequest(4242))).code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);

    // Reload on change: the producer loses PUB on Orders.
    await Deno.writeTextFile(`${dir.path}/plain_acl.yml`, ACL.replace("Orders=PUB", "Orders=DENY"));
    await waitFor(
      async () => {
        const r = await client.invoke(addr, await signRequest(send("Orders"), "producerAK", "producerSecret"));
        return r.code === ResponseCode.SYSTEM_ERROR;
      },
      5000,
      "the reloaded rules",
    );
    // A broken file on reload keeps the last good rules: never "allow all".
    await Deno.writeTextFile(`${dir.path}/plain_acl.yml`, "accounts: [ {accessKey: x");
    await new Promise((r) => setTimeout(r, 1500));
    const stillDenied = await client.invoke(addr, await signRequest(send("Orders"), "producerAK", "producerSecret"));
    assert.equal(stillDenied.code, ResponseCode.SYSTEM_ERROR);
    assert.match(cluster.broker.stderr(), /keeping the last good rules/);
    const adminStill = await client.invoke(addr, await signRequest(send("Orders"), "adminAK", "adminSecret"));
    assert.equal(adminStill.code, ResponseCode.SUCCESS);
  } finally {
    await client.close();
    await cluster.close();
    await dir.remove();
  }
});

Deno.test("ACL: a missing or invalid ACL file stops the broker from starting", async () => {
  const dir = await tempDir("acl-bad");
  try {
    const missing = await startRole([
      "broker",
      "--port",
      "0",
      "--store",
      `${dir.path}/s1`,
      "--set",
      "aclEnable=true",
      "--set",
      `aclFile=${dir.path}/none.yml`,
    ])
      .then(() => "started", (error) => String(error));
    assert.match(missing, /exited \(2\) before ready[\s\S]*Cannot enable ACL/);
    await Deno.writeTextFile(`${dir.path}/bad.yml`, "accounts:\n  - accessKey: short\n    secretKey: x\n");
    const invalid = await startRole([
      "broker",
      "--port",
      "0",
      "--store",
      `${dir.path}/s2`,
      "--set",
      "aclEnable=true",
      "--set",
      `aclFile=${dir.path}/bad.yml`,
    ])
      .then(() => "started", (error) => String(error));
    assert.match(invalid, /accessKey must be at least 6 characters/);
  } finally {
    await dir.remove();
  }
});

Deno.test("ACL: our client signs with credentials; without them the broker refuses it", async () => {
  const { Producer, LitePullConsumer } = await import("../client/mod.ts");
  const dir = await tempDir("acl-client");
  await Deno.writeTextFile(`${dir.path}/plain_acl.yml`, ACL);
  const cluster = await startCluster({ aclEnable: "true", aclFile: `${dir.path}/plain_acl.yml` });
  const admin = new RemotingClient({ credentials: { accessKey: "adminAK", secretKey: "adminSecret" } });
  try {
    assert.equal((await admin.invoke(cluster.brokerAddr, createTopic("Audit"))).code, ResponseCode.SUCCESS);
    await using producer = new Producer({
      nameServer: cluster.namesrv,
      group: "AclProducer",
      credentials: { accessKey: "producerAK", secretKey: "producerSecret" },
    });
    await producer.start();
    const sent = await producer.send({ topic: "Audit", body: "signed", tags: "T" });
    assert.equal(sent.status, "SEND_OK");

    await using reader = new LitePullConsumer({
      nameServer: cluster.namesrv,
      group: "AuditReaders",
      consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
      credentials: { accessKey: "producerAK", secretKey: "producerSecret" },
    });
    reader.subscribe("Audit", "*");
    await reader.start();
    const got = await waitFor(
      async () => (await reader.poll(1000)).find((m) => new TextDecoder().decode(m.body) === "signed"),
      10_000,
      "the signed message",
    );
    assert.equal(got.tags, "T");

    await using anonymous = new Producer({
      nameServer: cluster.namesrv,
      group: "Anonymous",
      retryTimesWhenSendFailed: 0,
    });
    await anonymous.start();
    await assert.rejects(anonymous.send({ topic: "Audit", body: "unsigned" }), /No accessKey is configured/);
  } finally {
    await admin.close();
    await cluster.close();
    await dir.remove();
  }
});
