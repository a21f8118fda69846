/**
 * Admin calls the broker relays to a consumer's own connection: GET_CONSUMER_RUNNING_INFO (307,
 * `mqadmin consumerStatus`, dashboards), CONSUME_MESSAGE_DIRECTLY (309, with the stored message
 * as the body) and INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223, which asks every client of a group
 * with GET_CONSUMER_STATUS_FROM_CLIENT, 221). The client's answer is passed back as it is; a
 * missing, too old, silent or failing client gets RocketMQ's codes and words.
 *
 * @module
 */

import { decodeJsonBody, encodeJsonBody } from "../../protocol/bodies.ts";
import { createRequest, createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { readHeader, toExtFields } from "../../protocol/header.ts";
import { decodeOffsetMessageId } from "../../protocol/message.ts";
import { RequestCode } from "../../protocol/request_code.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { ServerConnection } from "../../remoting/server.ts";
import { BrokerError } from "../errors.ts";
import {
  type MessageQueueKey,
  messageQueueKey,
  mqVersionDesc,
  V3_0_7_SNAPSHOT,
  V3_1_8_SNAPSHOT,
} from "./_admin_util.ts";
import type { BrokerServices } from "./context.ts";

/** How long a GET_CONSUMER_STATUS_FROM_CLIENT call may take (RocketMQ: 5 s). */
const CONSUMER_STATUS_TIMEOUT_MS = 5000;
/** Extra time the connection's own timer gets, so this module's timer decides what a timeout is. */
const TIMER_SLACK_MS = 1000;

/** A client that did not answer in time. */
class ClientTimeoutError extends Error {
  override name = "ClientTimeoutError";
}

/**
 * Calls a client on its connection and awaits the answer.
 *
 * @throws {ClientTimeoutError} after `timeoutMs`; the connection's error when it closes first.
 */
async function callClient(
  connection: ServerConnection,
  command: RemotingCommand,
  timeoutMs: number,
): Promise<RemotingCommand> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ClientTimeoutError(`${connection.remoteAddr} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const call = connection.request(command, timeoutMs + TIMER_SLACK_MS);
  call.catch(() => {}); // its late failure after our timeout is expected
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** RocketMQ `AdminBrokerProcessor.callConsumer`: forwards `request` as `code` to one client and relays the answer. */
async function callConsumer(
  s: BrokerServices,
  request: RemotingCommand,
  code: number,
  group: string,
  clientId: string | undefined,
  body: Uint8Array | undefined,
): Promise<RemotingCommand> {
  const channel = clientId === undefined ? undefined : s.consumers.findChannel(group, clientId);
  if (!channel) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, `The Consumer <${group}> <${clientId ?? null}> not online`);
  }
  if (channel.version < V3_1_8_SNAPSHOT) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `The Consumer <${clientId}> Version <${
        mqVersionDesc(channel.version)
      }> too low to finish, please upgrade it to V3_1_8_SNAPSHOT`,
    );
  }
  const forward = createRequest(code, { ...request.extFields }, { body });
  let answer: RemotingCommand;
  try {
    answer = await callClient(channel.connection, forward, s.config.clientRequestTimeoutMills);
  } catch (error) {
    const desc = `${(error as Error).name}: ${(error as Error).message}`;
    if (error instanceof ClientTimeoutError) {
      throw new BrokerError(ResponseCode.CONSUME_MSG_TIMEOUT, `consumer <${group}> <${clientId}> Timeout: ${desc}`);
    }
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, `invoke consumer <${group}> <${clientId}> Exception: ${desc}`);
  }
  return createResponse(request, answer.code, {
    remark: answer.remark,
    extFields: answer.extFields,
    body: answer.body,
  });
}

/** Handles GET_CONSUMER_RUNNING_INFO: relayed to the client; its ConsumerRunningInfo comes back as is. */
export function handleGetConsumerRunningInfo(request: RemotingCommand, s: BrokerServices): Promise<RemotingCommand> {
  const h = readHeader(
    "GET_CONSUMER_RUNNING_INFO header",
    { consumerGroup: "string", clientId: "string", jstackEnable: "boolean?" },
    request.extFields,
  );
  return callConsumer(s, request, RequestCode.GET_CONSUMER_RUNNING_INFO, h.consumerGroup, h.clientId, request.body);
}

/**
 * Handles CONSUME_MESSAGE_DIRECTLY: the message named by `msgId` (an offsetMsgId) goes to the
 * client as the body, with this broker's name in the header.
 */
export async function handleConsumeMessageDirectly(
  request: RemotingCommand,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const h = readHeader(
    "CONSUME_MESSAGE_DIRECTLY header",
    { consumerGroup: "string", clientId: "string?", msgId: "string?", brokerName: "string?" },
    request.extFields,
  );
  let record: Uint8Array | undefined;
  try {
    if (h.msgId) record = await s.store.readRecord(decodeOffsetMessageId(h.msgId).commitLogOffset);
  } catch {
    record = undefined;
  }
  if (!record) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, `Cannot find message "${h.msgId ?? ""}" in this broker`);
  }
  const forward = { ...request, extFields: { ...request.extFields, brokerName: s.config.brokerName } };
  return callConsumer(s, forward, RequestCode.CONSUME_MESSAGE_DIRECTLY, h.consumerGroup, h.clientId, record);
}

/** Re-keys a client's `messageQueueTable` (fastjson object keys) as MessageQueue keys. */
function readQueueTable(raw: unknown): Map<MessageQueueKey, number> {
  const table = new Map<MessageQueueKey, number>();
  if (!(raw instanceof Map)) return table; // `{}`: no queues
  for (const [key, value] of raw) {
    const mq = key as Partial<MessageQueueKey>;
    if (typeof mq?.topic !== "string" || typeof mq.brokerName !== "string") continue;
    table.set(messageQueueKey(mq.topic, mq.brokerName, Number(mq.queueId)), Number(value));
  }
  return table;
}

/**
 * Handles INVOKE_BROKER_TO_GET_CONSUMER_STATUS: asks the group's clients (or the one whose
 * client id is `clientAddr`) for their offsets on `topic`; clients that fail or stay silent are
 * left out of the answer, as in RocketMQ.
 */
export async function handleInvokeBrokerToGetConsumerStatus(
  request: RemotingCommand,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const h = readHeader(
    "INVOKE_BROKER_TO_GET_CONSUMER_STATUS header",
    { topic: "string", group: "string", clientAddr: "string?" },
    request.extFields,
  );
  const channels = [...(s.consumers.get(h.group)?.channels.values() ?? [])];
  if (channels.length === 0) {
    throw new BrokerError(ResponseCode.SYSTEM_ERROR, `No Any Consumer online in the consumer group: [${h.group}]`);
  }
  const tooOld = channels.find((c) => c.version < V3_0_7_SNAPSHOT);
  if (tooOld) {
    throw new BrokerError(
      ResponseCode.SYSTEM_ERROR,
      `the client does not support this feature. version=${mqVersionDesc(tooOld.version)}`,
    );
  }
  const wanted = h.clientAddr?.trim() ? channels.filter((c) => c.clientId === h.clientAddr) : channels;
  const ask = createRequest(
    RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT,
    toExtFields({ topic: h.topic, group: h.group }),
  );
  const consumerTable: Record<string, Map<MessageQueueKey, number>> = {};
  await Promise.all(wanted.map(async (channel) => {
    try {
      const answer = await callClient(channel.connection, ask, CONSUMER_STATUS_TIMEOUT_MS);
      if (answer.code !== ResponseCode.SUCCESS || !answer.body) return;
      const body = decodeJsonBody(answer.body, "GetConsumerStatusBody") as Record<string, unknown>;
      consumerTable[channel.clientId] = readQueueTable(body?.messageQueueTable);
    } catch (error) {
      s.log.warn("Cannot get consumer status of {group} on {topic} from {clientId}: {error}", {
        group: h.group,
        topic: h.topic,
        clientId: channel.clientId,
        error: (error as Error).message,
      });
    }
  }));
  return createResponse(request, ResponseCode.SUCCESS, {
    body: encodeJsonBody({ consumerTable, messageQueueTable: {} }),
  });
}
