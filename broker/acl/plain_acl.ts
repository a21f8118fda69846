/**
 * RocketMQ 4.x "plain ACL" rules (`plain_acl.yml`): accounts with an access key, a secret key,
 * an admin flag, default topic/group permissions, per-topic and per-group permissions, and IP
 * white lists (global and per account).
 *
 * Parsing is strict: any malformed entry rejects the whole file, so a typo can never silently
 * widen access. The caller decides what a rejected file means (refuse to start, or keep the last
 * good rules on reload).
 *
 * @module
 */

import { parse as parseYaml } from "yaml";

/** `Permission.java` bits. */
export const AclPerm = { DENY: 1, ANY: 2, PUB: 4, SUB: 8 } as const;

/** Parses "PUB", "SUB", "PUB|SUB", "DENY" (RocketMQ's spellings). */
export function parsePerm(text: string, where: string): number {
  const trimmed = text.trim().toUpperCase();
  switch (trimmed) {
    case "DENY":
      return AclPerm.DENY;
    case "PUB":
      return AclPerm.PUB;
    case "SUB":
      return AclPerm.SUB;
    case "PUB|SUB":
    case "SUB|PUB":
      return AclPerm.PUB | AclPerm.SUB;
    default:
      throw new AclConfigError(`${where}: permission "${text}" is not one of DENY, PUB, SUB, PUB|SUB`);
  }
}

/** A rejected ACL file. */
export class AclConfigError extends Error {
  override name = "AclConfigError";
}

/** A compiled IP white-list entry. */
export type AddressMatcher = (ip: string) => boolean;

/** The shortest key RocketMQ accepts (`PlainAccessResource`: "longer than 6"). */
const KEY_LENGTH_MIN = 6;

/**
 * Compiles a RocketMQ remote-address pattern: blank (never), `*` (always), `a.b.c.d`,
 * comma lists, `a.b.c.{1,2,3}`, and ranges with `*` or `n-m` in trailing positions
 * (`192.168.*.*`, `10.0.0.1-100`). IPv6 entries match exactly.
 */
export function compileAddress(pattern: string | undefined, where: string): AddressMatcher {
  const text = (pattern ?? "").trim();
  if (text === "") return () => false;
  if (text === "*" || text === "*.*.*.*" || text === "*:*:*:*:*:*:*:*") return () => true;
  if (text.includes(",") && !text.endsWith("}")) {
    const set = new Set(text.split(",").map((a) => a.trim()).filter(Boolean));
    return (ip) => set.has(ip);
  }
  if (text.endsWith("}")) {
    const open = text.lastIndexOf("{");
    if (open < 0) throw new AclConfigError(`${where}: address pattern "${text}" has "}" without "{"`);
    const prefix = text.slice(0, open);
    const set = new Set(text.slice(open + 1, -1).split(",").map((n) => prefix + n.trim()));
    return (ip) => set.has(ip);
  }
  if (text.includes(":")) return (ip) => ip.toLowerCase() === text.toLowerCase();
  const parts = text.split(".");
  if (parts.length !== 4) throw new AclConfigError(`${where}: address pattern "${text}" is not an IPv4 pattern`);
  const ranges = parts.map((part) => {
    if (part === "*") return [0, 255];
    const range = /^(\d{1,3})-(\d{1,3})$/.exec(part);
    if (range) return [Number(range[1]), Number(range[2])];
    if (/^\d{1,3}$/.test(part)) return [Number(part), Number(part)];
    throw new AclConfigError(`${where}: address pattern "${text}" has a bad part "${part}"`);
  });
  if (ranges.some(([lo, hi]) => lo > hi || hi > 255)) {
    throw new AclConfigError(`${where}: address pattern "${text}" has a range outside 0-255`);
  }
  return (ip) => {
    const octets = ip.split(".");
    if (octets.length !== 4) return false;
    return octets.every((o, i) => {
      const n = Number(o);
      return Number.isInteger(n) && n >= ranges[i][0] && n <= ranges[i][1];
    });
  };
}

/** One account. */
export interface AclAccount {
  accessKey: string;
  secretKey: string;
  admin: boolean;
  defaultTopicPerm: number;
  defaultGroupPerm: number;
  /** Topic → perm. */
  topicPerms: Map<string, number>;
  /** Group → perm (checked against the group's `%RETRY%` topic, as RocketMQ does). */
  groupPerms: Map<string, number>;
  whiteRemoteAddress: AddressMatcher;
}

/** A whole rule set. */
export interface AclRules {
  globalWhiteRemoteAddresses: AddressMatcher[];
  accounts: Map<string, AclAccount>;
}

function resourcePerms(list: unknown, where: string): Map<string, number> {
  const map = new Map<string, number>();
  if (list === undefined || list === null) return map;
  if (!Array.isArray(list)) throw new AclConfigError(`${where} must be a list of "name=PERM" entries`);
  for (const entry of list) {
    if (typeof entry !== "string" || !entry.includes("=")) {
      throw new AclConfigError(`${where}: entry ${JSON.stringify(entry)} must look like "name=PUB|SUB"`);
    }
    const eq = entry.indexOf("=");
    const name = entry.slice(0, eq).trim();
    if (!name) throw new AclConfigError(`${where}: entry "${entry}" has no name`);
    map.set(name, parsePerm(entry.slice(eq + 1), `${where} "${name}"`));
  }
  return map;
}

/**
 * Parses `plain_acl.yml` text.
 *
 * @throws {AclConfigError} naming the first problem found.
 */
export function parsePlainAcl(text: string): AclRules {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new AclConfigError(`not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new AclConfigError("expected a YAML mapping with globalWhiteRemoteAddresses and accounts");
  }
  const root = doc as Record<string, unknown>;
  const globals = root.globalWhiteRemoteAddresses ?? [];
  if (!Array.isArray(globals)) throw new AclConfigError("globalWhiteRemoteAddresses must be a list");
  const accountsRaw = root.accounts ?? [];
  if (!Array.isArray(accountsRaw)) throw new AclConfigError("accounts must be a list");
  const accounts = new Map<string, AclAccount>();
  accountsRaw.forEach((raw, index) => {
    if (typeof raw !== "object" || raw === null) throw new AclConfigError(`accounts[${index}] must be a mapping`);
    const a = raw as Record<string, unknown>;
    const accessKey = a.accessKey === undefined || a.accessKey === null ? "" : String(a.accessKey);
    const secretKey = a.secretKey === undefined || a.secretKey === null ? "" : String(a.secretKey);
    const where = `accounts[${index}] (${accessKey || "no accessKey"})`;
    if (accessKey.length < KEY_LENGTH_MIN) {
      throw new AclConfigError(`${where}: accessKey must be at least ${KEY_LENGTH_MIN} characters`);
    }
    if (secretKey.length < KEY_LENGTH_MIN) {
      throw new AclConfigError(`${where}: secretKey must be at least ${KEY_LENGTH_MIN} characters`);
    }
    if (accounts.has(accessKey)) throw new AclConfigError(`${where}: accessKey is listed twice`);
    if (a.admin !== undefined && a.admin !== null && typeof a.admin !== "boolean") {
      throw new AclConfigError(`${where}: admin must be true or false`);
    }
    accounts.set(accessKey, {
      accessKey,
      secretKey,
      admin: a.admin === true,
      defaultTopicPerm: a.defaultTopicPerm
        ? parsePerm(String(a.defaultTopicPerm), `${where} defaultTopicPerm`)
        : AclPerm.DENY,
      defaultGroupPerm: a.defaultGroupPerm
        ? parsePerm(String(a.defaultGroupPerm), `${where} defaultGroupPerm`)
        : AclPerm.DENY,
      topicPerms: resourcePerms(a.topicPerms, `${where} topicPerms`),
      groupPerms: resourcePerms(a.groupPerms, `${where} groupPerms`),
      whiteRemoteAddress: compileAddress(
        a.whiteRemoteAddress === null ? "" : a.whiteRemoteAddress as string | undefined,
        `${where} whiteRemoteAddress`,
      ),
    });
  });
  return {
    globalWhiteRemoteAddresses: globals.map((g, i) =>
      compileAddress(String(g ?? ""), `globalWhiteRemoteAddresses[${i}]`)
    ),
    accounts,
  };
}
