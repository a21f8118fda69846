/**
 * LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42): queue ownership for orderly consumers.
 *
 * @module
 */

import { decodeJsonBody, encodeJsonBody } from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { MessageQueue } from "../locks.ts";
import type { BrokerServices } from "./context.ts";

/** Queues one lock request may name. */
const QUEUES_PER_REQUEST_MAX = 10_000;

function readLockBody(
  request: RemotingCommand,
  what: string,
): { group: string; clientId: string; queues: MessageQueue[] } {
  const body = decodeJsonBody(request.body, what) as Record<string, unknown>;
  const group = body?.consumerGroup;
  const clientId = body?.clientId;
  const set = body?.mqSet;
  if (typeof group !== "string" || typeof clientId !== "string" || !Array.isArray(set)) {
    throw new ProtocolError(`Cannot read ${what}: consumerGroup, clientId and mqSet are required`);
  }
  if (set.length > QUEUES_PER_REQUEST_MAX) {
    throw new ProtocolError(`Cannot read ${what}: ${set.length} queues, limit is ${QUEUES_PER_REQUEST_MAX}`);
  }
  const queues = set.map((raw: Record<string, unknown>) => ({
    topic: String(raw?.topic ?? ""),
    brokerName: String(raw?.brokerName ?? ""),
    queueId: Number(raw?.queueId ?? -1),
  }));
  return { group, clientId, queues };
}

function mqJson(mq: MessageQueue) {
  return { brokerName: mq.brokerName, queueId: mq.queueId, topic: mq.topic };
}

/** Handles LOCK_BATCH_MQ. */
export function handleLockBatchMq(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const { group, clientId, queues } = readLockBody(request, "LOCK_BATCH_MQ body");
  const locked = s.locks.tryLock(group, clientId, queues);
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody({ lockOKMQSet: locked.map(mqJson) }) });
}

/** Handles UNLOCK_BATCH_MQ. */
export function handleUnlockBatchMq(request: RemotingCommand, s: BrokerServices): RemotingCommand {
  const { group, clientId, queues } = readLockBody(request, "UNLOCK_BATCH_MQ body");
  s.locks.unlock(group, clientId, queues);
  return createResponse(request, ResponseCode.SUCCESS);
}
