/**
 * RocketMQ 4.x ACL 1.0 request signing (`AclClientRPCHook` / `AclUtils`), shared by the client,
 * which signs, and the broker, which verifies.
 *
 * The signed bytes are the extFields values in key order (Java `TreeMap`: UTF-16 code-unit
 * order) without `Signature` and `_UNIQUE_KEY_QUERY`, then the raw body; the signature is
 * Base64(HmacSHA1(secretKey, bytes)). Pure computation: no I/O.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import type { RemotingCommand } from "./command.ts";

/** extFields of ACL 1.0 (`SessionCredentials.java`). */
export const ACCESS_KEY = "AccessKey";
export const SIGNATURE = "Signature";
export const SECURITY_TOKEN = "SecurityToken";
/** Never part of the signed content (`MixAll.UNIQUE_MSG_QUERY_FLAG`). */
const UNIQUE_QUERY_FLAG = "_UNIQUE_KEY_QUERY";

/** An account's credentials. */
export interface AclCredentials {
  accessKey: string;
  secretKey: string;
  securityToken?: string;
}

const encoder = new TextEncoder();

/** The bytes a signature covers. */
export function signedContent(extFields: Record<string, string>, body: Uint8Array | undefined): Uint8Array {
  const keys = Object.keys(extFields).filter((k) => k !== SIGNATURE && k !== UNIQUE_QUERY_FLAG).sort();
  const text = encoder.encode(keys.map((k) => extFields[k]).join(""));
  if (!body || body.length === 0) return text;
  const out = new Uint8Array(text.length + body.length);
  out.set(text, 0);
  out.set(body, text.length);
  return out;
}

/** Base64 HmacSHA1 of `content` keyed by `secretKey` (`AclSigner.calSignature`). */
export function aclSignature(content: Uint8Array, secretKey: string): string {
  return createHmac("sha1", secretKey).update(content).digest("base64");
}

/** A copy of `command` carrying AccessKey (and SecurityToken) and its Signature. */
export function signCommand(command: RemotingCommand, credentials: AclCredentials): RemotingCommand {
  const extFields: Record<string, string> = { ...command.extFields, [ACCESS_KEY]: credentials.accessKey };
  if (credentials.securityToken) extFields[SECURITY_TOKEN] = credentials.securityToken;
  extFields[SIGNATURE] = aclSignature(signedContent(extFields, command.body), credentials.secretKey);
  return { ...command, extFields };
}
