/**
 * Shared pieces of the admin subcommands: the command shape, flag parsing, the remoting client,
 * aligned tables and `--json` output, and the one-line failure rule.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { RemotingClient } from "../client/remoting_client.ts";
import { createRequest, type ExtFields, type RemotingCommand } from "../protocol/command.ts";
import { ResponseError } from "../protocol/errors.ts";
import { requestCodeName } from "../protocol/request_code.ts";
import { ResponseCode, responseCodeName } from "../protocol/response_code.ts";

/** An admin subcommand (mqadmin's `SubCommand`). */
export interface AdminCommand {
  name: string;
  description: string;
  /** Flags beyond the common ones (`-n`, `--json`, `-h`). */
  options: ParseArgsConfig["options"];
  /** One line per flag, for `--help`. */
  usage: string;
  run(context: AdminContext): Promise<void>;
}

/** What a subcommand runs with. */
export interface AdminContext {
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  client: RemotingClient;
  /** NameServer addresses from `-n` (or `NAMESRV_ADDR`). */
  nameServers: string[];
  out(line: string): void;
}

/** A failure to report on one line with a non-zero exit. */
export class AdminError extends Error {
  override name = "AdminError";
}

/** Common flags. */
export const COMMON_OPTIONS = {
  namesrvAddr: { type: "string", short: "n" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Sends a request and returns the response, throwing {@linkcode AdminError} on transport failure. */
export async function call(
  context: AdminContext,
  addr: string,
  code: number,
  extFields: ExtFields = {},
  body?: Uint8Array,
): Promise<RemotingCommand> {
  try {
    return await context.client.invoke(addr, createRequest(code, extFields, { body }), 5000);
  } catch (error) {
    throw new AdminError(`${requestCodeName(code)} to ${addr} failed: ${(error as Error).message}`);
  }
}

/** Like {@linkcode call}, but a non-success code is an error too. */
export async function callOk(
  context: AdminContext,
  addr: string,
  code: number,
  extFields: ExtFields = {},
  body?: Uint8Array,
): Promise<RemotingCommand> {
  const response = await call(context, addr, code, extFields, body);
  if (response.code !== ResponseCode.SUCCESS) {
    throw new ResponseError(
      response.code,
      `${requestCodeName(code)} to ${addr}: ${responseCodeName(response.code)} ${response.remark ?? ""}`.trim(),
    );
  }
  return response;
}

/** Calls the first NameServer that answers. */
export async function callNameServer(
  context: AdminContext,
  code: number,
  extFields: ExtFields = {},
): Promise<RemotingCommand> {
  if (context.nameServers.length === 0) throw new AdminError("No NameServer given: use -n host:port (or NAMESRV_ADDR)");
  let last: Error | undefined;
  for (const addr of context.nameServers) {
    try {
      return await call(context, addr, code, extFields);
    } catch (error) {
      last = error as Error;
    }
  }
  throw last!;
}

/** Formats rows as an aligned table with a header. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** Parses flags for one subcommand. */
export function parseFlags(command: AdminCommand, args: string[]) {
  return parseArgs({ args, options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: false, strict: true });
}
