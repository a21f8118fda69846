import assert from "node:assert/strict";
import { createRequest, createResponse } from "../protocol/command.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ok, startFakeServer } from "./_testing.ts";
import { RemotingClient, RemotingTimeoutError, RemotingTransportError } from "./remoting_client.ts";

Deno.test("RemotingClient.invoke() matches out-of-order responses by opaque", async () => {
  const held: Array<() => void> = [];
  const server = startFakeServer((request, connection) => {
    const reply = ok(request, { echo: request.extFields.n });
    if (request.extFields.n === "slow") {
      held.push(() => connection.send(reply));
      return null;
    }
    return reply;
  });
  const client = new RemotingClient({ timeoutMs: 2000 });
  try {
    const slow = client.invoke(server.addr, createRequest(RequestCode.HEART_BEAT, { n: "slow" }));
    const fast = await client.invoke(server.addr, createRequest(RequestCode.HEART_BEAT, { n: "fast" }));
    assert.equal(fast.extFields.echo, "fast");
    held[0]();
    assert.equal((await slow).extFields.echo, "slow");
    assert.equal(server.connections.length, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RemotingClient.invoke() throws RemotingTimeoutError and keeps the connection", async () => {
  const server = startFakeServer((request) => request.extFields.silent ? null : ok(request));
  const client = new RemotingClient();
  try {
    await assert.rejects(
      client.invoke(server.addr, createRequest(RequestCode.HEART_BEAT, { silent: "1" }), 50),
      RemotingTimeoutError,
    );
    assert.equal((await client.invoke(server.addr, createRequest(RequestCode.HEART_BEAT))).code, 0);
    assert.equal(server.connections.length, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RemotingClient answers server requests through onServerRequest", async () => {
  const client = new RemotingClient({
    onServerRequest: (request) =>
      request.code === RequestCode.GET_CONSUMER_RUNNING_INFO ? createResponse(request, 0, { remark: "hi" }) : null,
  });
  let answered: (value: string | undefined) => void;
  const answer = new Promise<string | undefined>((resolve) => answered = resolve);
  const server = startFakeServer((request, connection) => {
    if (request.code === RequestCode.HEART_BEAT) {
      const toClient = createRequest(RequestCode.GET_CONSUMER_RUNNING_INFO);
      toClient.opaque = 777;
      connection.send(toClient);
      return ok(request);
    }
    if ((request.flag & 1) === 1 && request.opaque === 777) answered(request.remark);
    return null;
  });
  try {
    await client.invoke(server.addr, createRequest(RequestCode.HEART_BEAT));
    assert.equal(await answer, "hi");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RemotingClient backs off after a failed connect, then reconnects", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const addr = `127.0.0.1:${port}`;
  const client = new RemotingClient({ reconnectBackoffMs: 200, reconnectBackoffMaxMs: 200 });
  try {
    await assert.rejects(client.invoke(addr, createRequest(RequestCode.HEART_BEAT)), RemotingTransportError);
    const started = Date.now();
    await assert.rejects(client.invoke(addr, createRequest(RequestCode.HEART_BEAT)), /next try in/);
    assert.ok(Date.now() - started < 50, "a backed-off address fails fast");
    await new Promise((resolve) => setTimeout(resolve, 250));
    await assert.rejects(client.invoke(addr, createRequest(RequestCode.HEART_BEAT)), /Cannot connect/);
  } finally {
    await client.close();
  }
});

Deno.test("RemotingClient fails pending calls when the server closes the connection", async () => {
  const server = startFakeServer((_, connection) => {
    connection.close();
    return null;
  });
  const client = new RemotingClient();
  try {
    await assert.rejects(client.invoke(server.addr, createRequest(RequestCode.HEART_BEAT)), RemotingTransportError);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RemotingClient.close() writes queued oneway frames first", async () => {
  let received: () => void;
  const got = new Promise<void>((resolve) => received = resolve);
  const server = startFakeServer((request) => {
    if (request.code === RequestCode.UPDATE_CONSUMER_OFFSET) received();
    return null;
  });
  const client = new RemotingClient();
  try {
    await client.invokeOneway(server.addr, createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, { commitOffset: "1" }));
    await client.close();
    await got;
    await assert.rejects(client.invoke(server.addr, createRequest(RequestCode.HEART_BEAT)), /closed/);
  } finally {
    await server.close();
  }
});
