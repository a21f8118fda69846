import assert from "node:assert/strict";
import { RemotingClient } from "../client/remoting_client.ts";
import { createRequest, createResponse } from "../protocol/command.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { type ProcessorEntry, startRemotingServer } from "./server.ts";

Deno.test("remoting server: a full lane answers SYSTEM_BUSY at once; errors become SYSTEM_ERROR; oneway gets no reply", async () => {
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => release = resolve);
  let onewaySeen = 0;
  const server = startRemotingServer({
    role: "test",
    hostname: "127.0.0.1",
    port: 0,
    lanes: { slow: { concurrencyMax: 1, queueLengthMax: 0 }, fast: { concurrencyMax: 4, queueLengthMax: 4 } },
    processors: new Map<number, ProcessorEntry>([
      [1000, { lane: "slow", handle: async (r) => (await blocked, createResponse(r, ResponseCode.SUCCESS)) }],
      [1001, {
        lane: "fast",
        handle: () => {
          throw new Error("boom");
        },
      }],
      [1002, { lane: "fast", handle: (r) => (onewaySeen++, createResponse(r, ResponseCode.SUCCESS)) }],
    ]),
  });
  const client = new RemotingClient();
  const addr = `127.0.0.1:${server.port}`;
  try {
    const first = client.invoke(addr, createRequest(1000));
    await new Promise((r) => setTimeout(r, 50));
    const busy = await client.invoke(addr, createRequest(1000));
    assert.equal(busy.code, ResponseCode.SYSTEM_BUSY);
    assert.match(busy.remark ?? "", /lane "slow" is full/);
    // Out-of-order answers: the blocked request does not delay others on the connection.
    const failed = await client.invoke(addr, createRequest(1001));
    assert.equal(failed.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(failed.remark, "Error: boom");
    await client.invokeOneway(addr, createRequest(1002));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(onewaySeen, 1);
    release();
    assert.equal((await first).code, ResponseCode.SUCCESS);
    assert.equal(server.stats.rejectedBusy, 1);
    assert.equal(server.stats.handlerErrors, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("remoting server: a reply over the pending-bytes cap disconnects the client as a slow consumer", async () => {
  const server = startRemotingServer({
    role: "test",
    hostname: "127.0.0.1",
    port: 0,
    lanes: { default: { concurrencyMax: 4, queueLengthMax: 4 } },
    limits: { pendingBytesMax: 64 * 1024 },
    processors: new Map<number, ProcessorEntry>([
      [1000, {
        lane: "default",
        handle: (r) => createResponse(r, ResponseCode.SUCCESS, { body: new Uint8Array(128 * 1024) }),
      }],
    ]),
  });
  const client = new RemotingClient();
  try {
    await assert.rejects(client.invoke(`127.0.0.1:${server.port}`, createRequest(1000), 2000), /closed|timed out/);
    assert.equal(server.stats.slowConsumerDisconnects, 1);
  } finally {
    await client.close();
    await server.close();
  }
});
