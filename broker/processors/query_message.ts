/**
 * QUERY_MESSAGE (12, by key or UNIQ_KEY through the index) and VIEW_MESSAGE_BY_ID (33, by the
 * commit-log offset inside an offsetMsgId). Both answer with raw stored records.
 *
 * @module
 */

import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { BrokerError } from "../errors.ts";
import type { BrokerServices } from "./context.ts";

/** Records one QUERY_MESSAGE may return, whatever `maxNum` asks. */
const QUERY_RESULTS_MAX = 64;

/** Handles QUERY_MESSAGE. */
export async function handleQueryMessage(request: RemotingCommand, s: BrokerServices): Promise<RemotingCommand> {
  const h = readHeader(
    "QUERY_MESSAGE header",
    { topic: "string", key: "string", maxNum: "int", beginTimestamp: "long", endTimestamp: "long" },
    request.extFields,
  );
  const uniqueKeyQuery = request.extFields["_UNIQUE_KEY_QUERY"] === "true";
  const maxCount = Math.min(uniqueKeyQuery ? s.config.defaultQueryMaxNum : Math.max(1, h.maxNum), QUERY_RESULTS_MAX);
  const result = await s.store.queryByKey(h.topic, h.key, {
    maxCount,
    beginMs: h.beginTimestamp,
    endMs: h.endTimestamp,
  });
  const extFields = {
    indexLastUpdateTimestamp: String(result.indexLastUpdateTimestamp),
    indexLastUpdatePhyoffset: String(result.indexLastUpdatePhyoffset),
  };
  if (result.records.length === 0) {
    return createResponse(request, ResponseCode.QUERY_NOT_FOUND, {
      remark: "can not find message, maybe time range not correct",
      extFields,
    });
  }
  const total = result.records.reduce((n, r) => n + r.length, 0);
  const body = new Uint8Array(total);
  let pos = 0;
  for (const record of result.records) {
    body.set(record, pos);
    pos += record.length;
  }
  return createResponse(request, ResponseCode.SUCCESS, { extFields, body });
}

/** Handles VIEW_MESSAGE_BY_ID. */
export async function handleViewMessageById(request: RemotingCommand, s: BrokerServices): Promise<RemotingCommand> {
  const { offset } = readHeader("VIEW_MESSAGE_BY_ID header", { offset: "long" }, request.extFields);
  const record = Number.isSafeInteger(offset) && offset >= 0 ? await s.store.readRecord(offset) : undefined;
  if (!record) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `can not find message by the offset, ${offset}`);
  return createResponse(request, ResponseCode.SUCCESS, { body: record });
}
