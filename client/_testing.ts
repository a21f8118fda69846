/**
 * Test helpers for `client/` unit tests: an in-process remoting server that answers with a
 * callback, so client behaviour (correlation, timeouts, retries, failover) is tested without
 * a broker. Uses `Deno.listen`: imported by `*_test.ts` files only, never by the library.
 *
 * @module
 */

import { createResponse, type ExtFields, type RemotingCommand } from "../protocol/command.ts";
import { encodeFrame, FrameDecoder } from "../protocol/frame.ts";
import { encodeJsonBody } from "../protocol/bodies.ts";
import { silentLogger } from "./_log.ts";

/** One accepted connection of a {@linkcode FakeServer}. */
export interface FakeConnection {
  /** Sends a command (a request of ours, or a late response). */
  send(command: RemotingCommand): void;
  close(): void;
}

/** Answers a request: a response, or null to stay silent. */
export type FakeHandler = (
  request: RemotingCommand,
  connection: FakeConnection,
) => RemotingCommand | null | undefined | Promise<RemotingCommand | null | undefined>;

/** A listening fake server. */
export interface FakeServer {
  readonly addr: string;
  /** Requests received, in order. */
  readonly requests: RemotingCommand[];
  /** Connections accepted so far. */
  readonly connections: FakeConnection[];
  close(): Promise<void>;
}

/** Starts a fake remoting server on 127.0.0.1 with an ephemeral port. */
export function startFakeServer(handler: FakeHandler): FakeServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: RemotingCommand[] = [];
  const connections: FakeConnection[] = [];
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const serve = async (conn: Deno.Conn) => {
    const decoder = new FrameDecoder();
    let closed = false;
    const connection: FakeConnection = {
      send(command) {
        if (!closed) conn.write(encodeFrame(command)).catch(() => {});
      },
      close() {
        if (closed) return;
        closed = true;
        try {
          conn.close();
        } catch {
          // already closed
        }
      },
    };
    connections.push(connection);
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        for (const request of decoder.push(buffer.subarray(0, n))) {
          requests.push(request);
          const response = await handler(request, connection);
          if (response) connection.send(response);
        }
      }
    } catch {
      // connection reset or closed by the test
    } finally {
      conns.delete(conn);
      connection.close();
    }
  };
  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const task = serve(conn);
        tasks.add(task);
        task.finally(() => tasks.delete(task));
      }
    } catch {
      // listener closed
    }
  })();
  const { port } = listener.addr as Deno.NetAddr;
  return {
    addr: `127.0.0.1:${port}`,
    requests,
    connections,
    async close() {
      listener.close();
      for (const connection of connections) connection.close();
      await acceptLoop;
      await Promise.all([...tasks]);
    },
  };
}

/** A SUCCESS response with these fields and body. */
export function ok(request: RemotingCommand, extFields: ExtFields = {}, body?: Uint8Array): RemotingCommand {
  return createResponse(request, 0, { extFields, body });
}

/** A route body with one master per broker and `queueNums` read/write queues each. */
export function routeBody(brokers: Record<string, string>, queueNums = 4): Uint8Array {
  const names = Object.keys(brokers);
  return encodeJsonBody({
    brokerDatas: names.map((brokerName) => ({
      brokerAddrs: new Map([[0, brokers[brokerName]]]),
      brokerName,
      cluster: "DefaultCluster",
    })),
    filterServerTable: {},
    queueDatas: names.map((brokerName) => ({
      brokerName,
      perm: 6,
      readQueueNums: queueNums,
      topicSysFlag: 0,
      writeQueueNums: queueNums,
    })),
  });
}

/** Client options for tests: quiet, short timeouts. */
export const testClientOptions = {
  logger: silentLogger,
  requestTimeoutMs: 1000,
  reconnectBackoffMs: 20,
  reconnectBackoffMaxMs: 100,
} as const;
