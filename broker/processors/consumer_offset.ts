/**
 * QUERY_CONSUMER_OFFSET (14) and UPDATE_CONSUMER_OFFSET (15).
 *
 * A group that never committed on a queue whose messages still start at offset 0 (and are
 * recent) is told 0, so a new group sees what was sent before it started — RocketMQ's rule;
 * otherwise QUERY_NOT_FOUND lets the client apply its consume-from-where.
 *
 * @module
 */

import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { BrokerServices } from "./context.ts";

/**
 * How far behind the commit log's end a queue's first message may be and still count as "hot"
 * (RocketMQ: 40 % of physical memory; we take 40 % of 16 GiB rather than ask for sys access).
 */
const HOT_DATA_BYTES_MAX = Math.floor(0.4 * 16 * 1024 * 1024 * 1024);

/** Handles QUERY_CONSUMER_OFFSET. */
export function handleQueryConsumerOffset(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const h = readHeader(
    "QUERY_CONSUMER_OFFSET header",
    { consumerGroup: "string", topic: "string", queueId: "int", setZeroIfNotFound: "boolean?" },
    request.extFields,
  );
  const offset = s.offsets.query(h.consumerGroup, h.topic, h.queueId);
  if (offset >= 0) return createResponse(request, ResponseCode.SUCCESS, { extFields: { offset: String(offset) } });
  const minOffset = s.store.minQueueOffset(h.topic, h.queueId);
  if (h.setZeroIfNotFound !== false && minOffset <= 0 && isQueueStartHot(h.topic, h.queueId, s)) {
    return createResponse(request, ResponseCode.SUCCESS, { extFields: { offset: "0" } });
  }
  return createResponse(request, ResponseCode.QUERY_NOT_FOUND, {
    remark: "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
  });
}

function isQueueStartHot(topic: string, queueId: number, s: BrokerServices): boolean {
  const [first] = s.store.getQueueUnits(topic, queueId, 0, 1);
  if (!first) return true; // an empty queue: start at 0 (as the 4.9.7 broker answers)
  return s.store.commitLogMaxOffset() - first.commitLogOffset < HOT_DATA_BYTES_MAX;
}

/** Handles UPDATE_CONSUMER_OFFSET. */
export function handleUpdateConsumerOffset(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const h = readHeader(
    "UPDATE_CONSUMER_OFFSET header",
    { consumerGroup: "string", topic: "string", queueId: "int", commitOffset: "long" },
    request.extFields,
  );
  if (!s.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset)) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: "Cannot commit offset: offset table is full" });
  }
  return createResponse(request, ResponseCode.SUCCESS);
}
