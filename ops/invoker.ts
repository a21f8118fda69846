/**
 * How admin operations reach a NameServer or broker: over TCP with a {@linkcode RemotingClient}
 * (the CLI, and the NameServer's HTTP admin reaching brokers), or in-process through the very
 * processor table the role's server dispatches to ({@linkcode LocalInvoker}), so the HTTP admin
 * of a role runs the same handlers on the same services without a socket.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { RemotingClient } from "../client/remoting_client.ts";
import { type AclCredentials, signCommand } from "../protocol/acl_signature.ts";
import { createResponse, type RemotingCommand } from "../protocol/command.ts";
import { ProtocolError, ResponseError } from "../protocol/errors.ts";
import { requestCodeName } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import type { ProcessorTable, ServerConnection } from "../remoting/server.ts";
import { UnreachableError } from "./errors.ts";

/** Sends one request to `addr` and resolves with its response. */
export interface Invoker {
  /**
   * @throws {UnreachableError} when `addr` cannot be reached or does not answer in `timeoutMs`.
   */
  invoke(addr: string, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand>;
}

/** An {@linkcode Invoker} over TCP. */
export function remoteInvoker(client: RemotingClient): Invoker {
  return {
    async invoke(addr, request, timeoutMs) {
      try {
        return await client.invoke(addr, request, timeoutMs);
      } catch (error) {
        throw new UnreachableError(
          `${requestCodeName(request.code)} to ${addr} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
    },
  };
}

/** Options for {@linkcode LocalInvoker}. */
export interface LocalInvokerOptions {
  /**
   * The processor table of each address served by this process (the role's own `ip:port`, or a
   * label such as {@linkcode LOCAL_NAMESERVER}).
   */
  tables: ReadonlyMap<string, ProcessorTable>;
  /** Used for every other address; without it they are unreachable. */
  fallback?: Invoker;
}

/** The address a process's own NameServer table is invoked at. */
export const LOCAL_NAMESERVER = "local:nameserver";

let nextLocalConnectionId = -1;

/**
 * Dispatches requests for its own addresses to a processor table in-process, answering errors
 * as the remoting server does (ResponseError → its code, ProtocolError → INVALID_PARAMETER,
 * anything else → SYSTEM_ERROR, logged), and hands other addresses to `fallback`.
 */
export class LocalInvoker implements Invoker {
  readonly #tables: ReadonlyMap<string, ProcessorTable>;
  readonly #fallback?: Invoker;
  /** Handlers read the caller's address from the connection; an HTTP caller is "local". */
  readonly #connection: ServerConnection;
  readonly #log = getLogger(["denomq", "http", "local"]);

  constructor(options: LocalInvokerOptions) {
    this.#tables = options.tables;
    this.#fallback = options.fallback;
    this.#connection = {
      id: nextLocalConnectionId--,
      remoteAddr: "127.0.0.1:0",
      remoteHostname: "127.0.0.1",
      remotePort: 0,
      attributes: new Map(),
      closed: false,
      inflightRequests: 0,
      send() {},
      oneway() {},
      requestStarted() {},
      requestFinished() {},
    } as unknown as ServerConnection;
  }

  /** Whether `addr` is served in-process. */
  isLocal(addr: string): boolean {
    return this.#tables.has(addr);
  }

  async invoke(addr: string, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    const table = this.#tables.get(addr);
    if (!table) {
      if (this.#fallback) return this.#fallback.invoke(addr, request, timeoutMs);
      throw new UnreachableError(`${requestCodeName(request.code)} to ${addr} failed: not served by this process`);
    }
    const entry = table.get(request.code);
    if (!entry) {
      return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, {
        remark: ` request type ${request.code} not supported`,
      });
    }
    try {
      const response = await entry.handle(request, { connection: this.#connection });
      return response ?? createResponse(request, ResponseCode.SUCCESS);
    } catch (error) {
      if (error instanceof ResponseError) return createResponse(request, error.code, { remark: error.message });
      if (error instanceof ProtocolError) {
        return createResponse(request, ResponseCode.INVALID_PARAMETER, { remark: error.message });
      }
      this.#log.error("Handler of {code} failed: {error}", {
        code: requestCodeName(request.code),
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: message });
    }
  }
}

/**
 * Signs every request with RocketMQ ACL 1.0 credentials (`AclClientRPCHook`), for brokers running
 * with `aclEnable=true`; NameServers ignore the extra fields.
 */
export function signingInvoker(inner: Invoker, credentials: AclCredentials): Invoker {
  return { invoke: (addr, request, timeoutMs) => inner.invoke(addr, signCommand(request, credentials), timeoutMs) };
}
