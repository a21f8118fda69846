/**
 * SEND_REPLY_MESSAGE (324) and SEND_REPLY_MESSAGE_V2 (325): the answer of a request-reply
 * exchange (RocketMQ 4.9.x `ReplyMessageProcessor`).
 *
 * A consumer answers a request with a reply message to `<cluster>_REPLY_TOPIC` whose
 * REPLY_TO_CLIENT property names the requesting client. The broker pushes the reply to that
 * client's producer connection with PUSH_REPLY_MESSAGE_TO_CLIENT (326) and also stores it. The
 * reply's code says whether the push worked (SYSTEM_ERROR with RocketMQ's remark when the
 * requester is gone or failed); its header carries the stored message's id and offset.
 *
 * @module
 */

import { createRequest, createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { toExtFields } from "../../protocol/header.ts";
import { encodeProperties, formatSocketAddress, MessageProperty, parseProperties } from "../../protocol/message.ts";
import { RequestCode } from "../../protocol/request_code.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { RequestContext } from "../../remoting/server.ts";
import { putStatusResponse } from "../errors.ts";
import { PutMessageStatus } from "../store/store.ts";
import { bornHostOf, type BrokerServices } from "./context.ts";
import {
  checkQueueId,
  checkSendAllowed,
  readSendHeader,
  type SendHeader,
  sendResponseFields,
  sendTopicConfig,
} from "./send_message.ts";

/** How long the requesting client may take to take the reply (RocketMQ `Broker2Client.callClient`: 10 s). */
const PUSH_REPLY_TIMEOUT_MS = 10_000;

/** Handles SEND_REPLY_MESSAGE and SEND_REPLY_MESSAGE_V2. */
export async function handleSendReplyMessage(
  request: RemotingCommand,
  context: RequestContext,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const header = readSendHeader(request);
  checkSendAllowed(header, s);
  const topicConfig = sendTopicConfig(header, s);
  checkQueueId(header, topicConfig, context);
  const queueId = header.queueId >= 0
    ? header.queueId
    : Math.floor(Math.random() * Math.max(1, topicConfig.writeQueueNums));
  const body = request.body ?? new Uint8Array();
  const bornHost = bornHostOf(context.connection);
  const properties = parseProperties(header.properties ?? "");

  const pushProblem = await pushReply(s, header, properties, body, formatSocketAddress(bornHost));
  let fields = pushProblem === undefined ? sendResponseFields(s, "0", queueId, 0) : undefined;

  // Stored too, as with RocketMQ's default storeReplyMessageEnable=true.
  const result = await s.putInner({
    topic: header.topic,
    queueId,
    flag: header.flag,
    sysFlag: header.sysFlag,
    bornTimestamp: header.bornTimestamp,
    bornHost,
    reconsumeTimes: header.reconsumeTimes ?? 0,
    preparedTransactionOffset: 0,
    body,
    properties,
  });
  if (result.status === PutMessageStatus.PUT_OK || result.status === PutMessageStatus.FLUSH_DISK_TIMEOUT) {
    fields = sendResponseFields(s, result.messageId, queueId, result.queueOffset);
  } else {
    s.log.warn("Cannot store reply message to {topic}: {reason}", {
      topic: header.topic,
      reason: putStatusResponse(result.status, result.reason).remark,
    });
  }
  if (pushProblem !== undefined) {
    return createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: pushProblem, extFields: fields });
  }
  return createResponse(request, ResponseCode.SUCCESS, { extFields: fields });
}

/** Pushes the reply to the requesting client; returns RocketMQ's remark on failure. */
async function pushReply(
  s: BrokerServices,
  header: SendHeader,
  properties: Map<string, string>,
  body: Uint8Array,
  bornHost: string,
): Promise<string | undefined> {
  const senderId = properties.get(MessageProperty.MESSAGE_REPLY_TO_CLIENT);
  if (senderId === undefined) {
    return `reply message properties[${MessageProperty.MESSAGE_REPLY_TO_CLIENT}] is null`;
  }
  const channel = s.producers.findChannel(senderId);
  if (!channel) return `push reply message fail, channel of <${senderId}> not found.`;
  const pushed = new Map(properties);
  pushed.set(MessageProperty.PUSH_REPLY_TIME, String(s.now()));
  const push = createRequest(
    RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT,
    toExtFields({
      bornHost,
      storeHost: formatSocketAddress(s.storeHost),
      storeTimestamp: s.now(),
      producerGroup: header.producerGroup,
      topic: header.topic,
      defaultTopic: header.defaultTopic,
      defaultTopicQueueNums: header.defaultTopicQueueNums,
      queueId: header.queueId,
      sysFlag: header.sysFlag,
      bornTimestamp: header.bornTimestamp,
      flag: header.flag,
      properties: encodeProperties(pushed),
      reconsumeTimes: header.reconsumeTimes,
      unitMode: header.unitMode ?? false,
    }),
    { body },
  );
  try {
    const response = await channel.connection.request(push, PUSH_REPLY_TIMEOUT_MS);
    if (response.code === ResponseCode.SUCCESS) return undefined;
    s.log.warn("Client {senderId} refused a reply: {code} {remark}", {
      senderId,
      code: response.code,
      remark: response.remark,
    });
  } catch (error) {
    s.log.warn("Cannot push a reply to {senderId}: {error}", { senderId, error: (error as Error).message });
  }
  return `push reply message to ${senderId}fail.`;
}
