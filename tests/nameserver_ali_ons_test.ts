/**
 * A real RocketMQ client against the NameServer alone: ali-ons gets the route of a registered
 * topic and connects to the broker address the route names (a stand-in listener here).
 */

import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { encodeJsonBody, registerBrokerBodyJson } from "../protocol/bodies.ts";
import { createRequest } from "../protocol/command.ts";
import { crc32Masked } from "../protocol/crc32.ts";
import { FrameDecoder } from "../protocol/frame.ts";
import { toExtFields } from "../protocol/header.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { startRole } from "./_process.ts";

Deno.test("ali-ons against the NameServer alone: route lookup leads the producer to the registered broker address", async () => {
  const ns = await startRole(["nameserver", "--port", "0"]);
  const namesrv = `127.0.0.1:${ns.ready.port}`;
  // The stand-in broker: records the first request it receives, then closes.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const brokerAddr = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const firstRequest = (async () => {
    const conn = await listener.accept();
    const decoder = new FrameDecoder();
    const buffer = new Uint8Array(65536);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) return undefined;
        const [command] = decoder.push(buffer.subarray(0, n));
        if (command) return command;
      }
    } finally {
      conn.close();
    }
  })();
  const registrar = new RemotingClient();
  try {
    const body = encodeJsonBody(registerBrokerBodyJson({
      topicConfigWrapper: {
        dataVersion: { counter: 1, timestamp: Date.now() },
        topicConfigTable: new Map([["ProbeTopic", {
          topicName: "ProbeTopic",
          readQueueNums: 4,
          writeQueueNums: 4,
          perm: 6,
          topicFilterType: "SINGLE_TAG" as const,
          topicSysFlag: 0,
          order: false,
        }]]),
      },
      filterServerList: [],
    }));
    const registered = await registrar.invoke(
      namesrv,
      createRequest(
        RequestCode.REGISTER_BROKER,
        toExtFields({
          brokerName: "broker-probe",
          brokerAddr,
          clusterName: "DefaultCluster",
          haServerAddr: "127.0.0.1:1",
          brokerId: 0,
          compressed: false,
          bodyCrc32: crc32Masked(body),
        }),
        { body },
      ),
    );
    assert.equal(registered.code, 0);
    const probe = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tests/clients/ali_ons_send_once.ts", namesrv, "ProbeTopic"],
      cwd: new URL("../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const request = await firstRequest;
    assert.ok(request, "ali-ons connected to the broker address from the route");
    assert.equal(request.code, RequestCode.SEND_MESSAGE_V2);
    assert.equal(request.extFields.b, "ProbeTopic");
    assert.equal(request.language, "JAVA");
    await probe;
  } finally {
    listener.close();
    await registrar.close();
    assert.equal(await ns.stop(), 0);
  }
});
