/**
 * The queue-offset family: GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
 * GET_EARLIEST_MSG_STORETIME (32) and SEARCH_OFFSET_BY_TIMESTAMP (29).
 *
 * @module
 */

import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { BrokerServices } from "./context.ts";

const QUEUE = { topic: "string", queueId: "int" } as const;

/** Handles GET_MAX_OFFSET: the next offset to be written, 0 for an unknown queue. */
export function handleGetMaxOffset(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const h = readHeader("GET_MAX_OFFSET header", QUEUE, request.extFields);
  return createResponse(request, ResponseCode.SUCCESS, {
    extFields: { offset: String(s.store.maxQueueOffset(h.topic, h.queueId)) },
  });
}

/** Handles GET_MIN_OFFSET. */
export function handleGetMinOffset(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const h = readHeader("GET_MIN_OFFSET header", QUEUE, request.extFields);
  return createResponse(request, ResponseCode.SUCCESS, {
    extFields: { offset: String(s.store.minQueueOffset(h.topic, h.queueId)) },
  });
}

/** Handles GET_EARLIEST_MSG_STORETIME: store time of the queue's first message, -1 when empty. */
export async function handleGetEarliestMsgStoretime(
  request: RemotingCommand,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const h = readHeader("GET_EARLIEST_MSG_STORETIME header", QUEUE, request.extFields);
  const bounds = await s.store.queueStoreTimeBounds(h.topic, h.queueId);
  return createResponse(request, ResponseCode.SUCCESS, { extFields: { timestamp: String(bounds.earliestMs) } });
}

/** Handles SEARCH_OFFSET_BY_TIMESTAMP. */
export async function handleSearchOffsetByTimestamp(
  request: RemotingCommand,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const h = readHeader("SEARCH_OFFSET_BY_TIMESTAMP header", { ...QUEUE, timestamp: "long" }, request.extFields);
  const offset = await s.store.searchQueueOffsetByTimestamp(h.topic, h.queueId, h.timestamp);
  return createResponse(request, ResponseCode.SUCCESS, { extFields: { offset: String(offset) } });
}
