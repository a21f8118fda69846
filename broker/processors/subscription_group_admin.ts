/**
 * Consumer-group administration: UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200),
 * GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) and DELETE_SUBSCRIPTIONGROUP (207). mqadmin's
 * `updateSubGroup` and `deleteSubGroup` use these; slaves replicate the table with 201.
 *
 * @module
 */

import { decodeJsonBody } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { BrokerError } from "../errors.ts";
import { readSubscriptionGroupConfig } from "../subscription_groups.ts";
import { refuseOnSlave } from "./_admin_util.ts";
import type { BrokerServices } from "./context.ts";

const encoder = new TextEncoder();

/**
 * Bytes of a group name. RocketMQ 4.9.7 checks nothing here; the bound keeps one request from
 * planting a name that every GET_ALL_SUBSCRIPTIONGROUP_CONFIG reply and the JSON file then carry.
 */
const GROUP_NAME_BYTES_MAX = 255;

/** Handles UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: the body is one SubscriptionGroupConfig. */
export function handleUpdateAndCreateSubscriptionGroup(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  refuseOnSlave(s);
  // RocketMQ answers SUCCESS and changes nothing when there is no body.
  if (!request.body || request.body.length === 0) return createResponse(request, ResponseCode.SUCCESS);
  const raw = decodeJsonBody(request.body, "SubscriptionGroupConfig body");
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ProtocolError("Cannot read SubscriptionGroupConfig body: expected a JSON object");
  }
  const config = readSubscriptionGroupConfig(raw);
  if (config.groupName.trim() === "") {
    throw new ProtocolError("Cannot update subscription group: groupName is missing or blank");
  }
  if (encoder.encode(config.groupName).length > GROUP_NAME_BYTES_MAX) {
    throw new ProtocolError(
      `Cannot update subscription group "${
        config.groupName.slice(0, 40)
      }…": name is over ${GROUP_NAME_BYTES_MAX} bytes`,
    );
  }
  if (config.retryQueueNums < 0 || config.retryMaxTimes < 0) {
    throw new ProtocolError(
      `Cannot update subscription group "${config.groupName}": retryQueueNums ${config.retryQueueNums} ` +
        `and retryMaxTimes ${config.retryMaxTimes} must not be negative`,
    );
  }
  try {
    s.groups.upsert(config);
  } catch (error) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, (error as Error).message);
  }
  s.log.info("Subscription group {group} updated", { group: config.groupName });
  return createResponse(request, ResponseCode.SUCCESS);
}

/** Handles GET_ALL_SUBSCRIPTIONGROUP_CONFIG: subscriptionGroup.json's content. */
export function handleGetAllSubscriptionGroupConfig(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, { body: encoder.encode(s.groups.encode()) });
}

/** Handles DELETE_SUBSCRIPTIONGROUP: SUCCESS whether or not the group existed, as in RocketMQ. */
export function handleDeleteSubscriptionGroup(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  refuseOnSlave(s);
  const h = readHeader(
    "DELETE_SUBSCRIPTIONGROUP header",
    { groupName: "string", removeOffset: "boolean?" },
    request.extFields,
  );
  const existed = s.groups.delete(h.groupName);
  if (h.removeOffset) s.offsets.removeGroup(h.groupName);
  s.log.info("Subscription group {group} deleted (existed: {existed}, offsets removed: {removeOffset})", {
    group: h.groupName,
    existed,
    removeOffset: h.removeOffset ?? false,
  });
  return createResponse(request, ResponseCode.SUCCESS);
}
