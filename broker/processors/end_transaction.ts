/**
 * END_TRANSACTION (37): a producer commits or rolls back a transaction's half message — after
 * its local transaction, or in answer to CHECK_TRANSACTION_STATE. Java producers send it oneway;
 * refusals use RocketMQ's remarks ("The producer group wrong", …).
 *
 * @module
 */

import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import { TransactionType } from "../transactions.ts";
import type { BrokerServices } from "./context.ts";

const schema = {
  producerGroup: "string",
  tranStateTableOffset: "long",
  commitLogOffset: "long",
  commitOrRollback: "int",
  fromTransactionCheck: "boolean?",
  msgId: "string",
  transactionId: "string?",
} as const;

/** Handles END_TRANSACTION. */
export async function handleEndTransaction(
  request: RemotingCommand,
  s: BrokerServices,
): Promise<RemotingCommand | null> {
  const h = readHeader("END_TRANSACTION header", schema, request.extFields);
  if (s.config.brokerRole === "SLAVE") {
    return createResponse(request, ResponseCode.SLAVE_NOT_AVAILABLE, {
      remark: "Slave can not receive transaction message",
    });
  }
  if (h.commitOrRollback !== TransactionType.COMMIT && h.commitOrRollback !== TransactionType.ROLLBACK) {
    // An "unknown" answer leaves the half message for the next check, as in RocketMQ.
    return null;
  }
  const outcome = await s.transactions.end({
    producerGroup: h.producerGroup,
    tranStateTableOffset: h.tranStateTableOffset,
    commitLogOffset: h.commitLogOffset,
    commitOrRollback: h.commitOrRollback,
    fromTransactionCheck: h.fromTransactionCheck ?? false,
  });
  if (outcome) {
    s.log.warn("END_TRANSACTION for {msgId} refused: {remark}", { msgId: h.msgId, remark: outcome.remark });
    return createResponse(request, outcome.code, { remark: outcome.remark });
  }
  return createResponse(request, ResponseCode.SUCCESS);
}
