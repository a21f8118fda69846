/**
 * Request checks for RocketMQ 4.x plain ACL (`PlainAccessValidator` + `PlainPermissionManager`):
 * white lists first, then the account, the HmacSHA1 signature over the sorted extFields values
 * and the body, admin-only codes, and the PUB/SUB permissions each request needs.
 *
 * A failure is answered as RocketMQ 4.9.7 answers it: SYSTEM_ERROR (1) with the AclException's
 * text as remark.
 *
 * @module
 */

import { ACCESS_KEY, aclSignature, SIGNATURE, signedContent } from "../../protocol/acl_signature.ts";
import type { RemotingCommand } from "../../protocol/command.ts";
import { RequestCode } from "../../protocol/request_code.ts";
import { AclPerm, type AclRules } from "./plain_acl.ts";

const RETRY_PREFIX = "%RETRY%";
const TRACE_TOPIC = "RMQ_SYS_TRACE_TOPIC";

/** Codes only admin accounts may send (`Permission.ADMIN_CODE`). */
const ADMIN_CODES = new Set<number>([
  RequestCode.UPDATE_AND_CREATE_TOPIC,
  RequestCode.UPDATE_BROKER_CONFIG,
  RequestCode.DELETE_TOPIC_IN_BROKER,
  RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
  RequestCode.DELETE_SUBSCRIPTIONGROUP,
]);

/** The text RocketMQ puts in the remark of an ACL failure. */
export function aclRemark(message: string): string {
  return `org.apache.rocketmq.acl.common.AclException: ${message}, denomq.acl.validate`;
}

function retryTopic(group: string | undefined): string {
  return RETRY_PREFIX + (group ?? "null");
}

/** Resources (topics, and groups as their retry topics) a request touches, with the perm it needs. */
export function neededResources(request: RemotingCommand): Map<string, number> {
  const ext = request.extFields;
  const needs = new Map<string, number>();
  const add = (resource: string | undefined, perm: number) => {
    if (resource !== undefined) needs.set(resource, (needs.get(resource) ?? 0) | perm);
  };
  switch (request.code) {
    case RequestCode.SEND_MESSAGE:
    case RequestCode.SEND_MESSAGE_V2:
    case RequestCode.SEND_BATCH_MESSAGE: {
      const topic = request.code === RequestCode.SEND_MESSAGE ? ext.topic : ext.b;
      // A client re-sending a failed message to %RETRY%group needs SUB on that group.
      if (topic?.startsWith(RETRY_PREFIX)) add(topic, AclPerm.SUB);
      else add(topic, AclPerm.PUB);
      break;
    }
    case RequestCode.CONSUMER_SEND_MSG_BACK:
      add(retryTopic(ext.group), AclPerm.SUB);
      break;
    case RequestCode.PULL_MESSAGE:
      add(ext.topic, AclPerm.SUB);
      add(retryTopic(ext.consumerGroup), AclPerm.SUB);
      break;
    case RequestCode.QUERY_MESSAGE:
      add(ext.topic, AclPerm.SUB);
      break;
    case RequestCode.HEART_BEAT: {
      const data = parseHeartbeat(request.body);
      for (const consumer of data) {
        add(retryTopic(consumer.group), AclPerm.SUB);
        for (const topic of consumer.topics) add(topic, AclPerm.SUB);
      }
      break;
    }
    case RequestCode.UNREGISTER_CLIENT:
    case RequestCode.GET_CONSUMER_LIST_BY_GROUP:
      if (ext.consumerGroup !== undefined) add(retryTopic(ext.consumerGroup), AclPerm.SUB);
      break;
    case RequestCode.UPDATE_CONSUMER_OFFSET:
      add(retryTopic(ext.consumerGroup), AclPerm.SUB);
      add(ext.topic, AclPerm.SUB);
      break;
  }
  return needs;
}

function parseHeartbeat(body: Uint8Array | undefined): { group: string; topics: string[] }[] {
  if (!body) return [];
  let data: { consumerDataSet?: { groupName?: string; subscriptionDataSet?: { topic?: string }[] }[] };
  try {
    data = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return []; // the heartbeat handler reports the malformed body
  }
  return (Array.isArray(data?.consumerDataSet) ? data.consumerDataSet : []).map((c) => ({
    group: String(c?.groupName ?? ""),
    topics: (Array.isArray(c?.subscriptionDataSet) ? c.subscriptionDataSet : []).map((s) => String(s?.topic ?? "")),
  }));
}

/** `Permission.checkPermission`. */
function permits(needed: number, owned: number): boolean {
  if ((owned & AclPerm.DENY) !== 0) return false;
  if ((needed & AclPerm.ANY) !== 0) return (owned & (AclPerm.PUB | AclPerm.SUB)) !== 0;
  return (needed & owned) !== 0;
}

/**
 * Checks one request from `remoteIp` against `rules`.
 *
 * @returns undefined when allowed, else the AclException message.
 */
export function checkRequest(rules: AclRules, request: RemotingCommand, remoteIp: string): string | undefined {
  if (rules.globalWhiteRemoteAddresses.some((match) => match(remoteIp))) return undefined;
  const accessKey = request.extFields[ACCESS_KEY];
  if (accessKey === undefined) return "No accessKey is configured";
  const account = rules.accounts.get(accessKey);
  if (!account) return `No acl config for ${accessKey}`;
  if (account.whiteRemoteAddress(remoteIp)) return undefined;
  const expected = aclSignature(signedContent(request.extFields, request.body), account.secretKey);
  if (expected !== request.extFields[SIGNATURE]) return `Check signature failed for accessKey=${accessKey}`;
  const needs = neededResources(request);
  // Trace data is always writable, so tracing never fails a traced client.
  if (needs.get(TRACE_TOPIC) === AclPerm.PUB) return undefined;
  if (ADMIN_CODES.has(request.code) && !account.admin) {
    return `Need admin permission for request code=${request.code}, but accessKey=${accessKey} is not`;
  }
  if (account.admin && account.topicPerms.size === 0 && account.groupPerms.size === 0) return undefined;
  for (const [resource, needed] of needs) {
    const isGroup = resource.startsWith(RETRY_PREFIX);
    const owned = isGroup
      ? account.groupPerms.get(resource.slice(RETRY_PREFIX.length)) ?? account.topicPerms.get(resource)
      : account.topicPerms.get(resource);
    const perm = owned ?? (isGroup ? account.defaultGroupPerm : account.defaultTopicPerm);
    if (!permits(needed, perm)) {
      const name = isGroup ? `group:${resource.slice(RETRY_PREFIX.length)}` : `topic:${resource}`;
      return `No default permission for ${name}`;
    }
  }
  return undefined;
}
