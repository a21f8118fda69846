/**
 * Test helper: raw broker requests (send, pull, offsets) over our RemotingClient, so end-to-end
 * tests can drive a broker without any client library.
 *
 * @module
 */

import { RemotingClient } from "../client/remoting_client.ts";
import { signCommand } from "../protocol/acl_signature.ts";
import { encodeJsonBody } from "../protocol/bodies.ts";
import { createRequest, type RemotingCommand } from "../protocol/command.ts";
import { toExtFields } from "../protocol/header.ts";
import { decodeMessageRecords, encodeProperties, type MessageRecord } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";

const encoder = new TextEncoder();

/** Sends one message with SEND_MESSAGE_V2. */
export function sendV2(
  client: RemotingClient,
  addr: string,
  options: {
    topic: string;
    queueId?: number;
    body: string | Uint8Array;
    properties?: Record<string, string>;
    producerGroup?: string;
    reconsumeTimes?: number;
    maxReconsumeTimes?: number;
  },
  timeoutMs = 10_000,
): Promise<RemotingCommand> {
  const body = typeof options.body === "string" ? encoder.encode(options.body) : options.body;
  return client.invoke(
    addr,
    createRequest(
      RequestCode.SEND_MESSAGE_V2,
      toExtFields({
        a: options.producerGroup ?? "TestProducer",
        b: options.topic,
        c: "TBW102",
        d: 4,
        e: options.queueId ?? 0,
        f: 0,
        g: Date.now(),
        h: 0,
        i: encodeProperties(options.properties ?? {}),
        j: options.reconsumeTimes ?? 0,
        k: false,
        l: options.maxReconsumeTimes,
      }),
      { body },
    ),
    timeoutMs,
  );
}

/** Pulls with the subscription in the request (no heartbeat needed). */
export async function pull(
  client: RemotingClient,
  addr: string,
  options: {
    group: string;
    topic: string;
    queueId: number;
    queueOffset: number;
    maxMsgNums?: number;
    subscription?: string;
    suspendMs?: number;
    commitOffset?: number;
  },
): Promise<{ response: RemotingCommand; messages: MessageRecord[] }> {
  let sysFlag = 0x4; // SUBSCRIPTION
  if (options.suspendMs) sysFlag |= 0x2;
  if (options.commitOffset !== undefined) sysFlag |= 0x1;
  const response = await client.invoke(
    addr,
    createRequest(
      RequestCode.PULL_MESSAGE,
      toExtFields({
        consumerGroup: options.group,
        topic: options.topic,
        queueId: options.queueId,
        queueOffset: options.queueOffset,
        maxMsgNums: options.maxMsgNums ?? 32,
        sysFlag,
        commitOffset: options.commitOffset ?? 0,
        suspendTimeoutMillis: options.suspendMs ?? 0,
        subscription: options.subscription ?? "*",
        subVersion: 0,
        expressionType: "TAG",
      }),
    ),
    (options.suspendMs ?? 0) + 10_000,
  );
  const messages = response.code === 0 && response.body ? decodeMessageRecords(response.body, { verifyCrc: true }) : [];
  return { response, messages };
}

/** Creates a topic on a broker. */
export function createTopic(client: RemotingClient, addr: string, topic: string, queues = 4): Promise<RemotingCommand> {
  return client.invoke(
    addr,
    createRequest(
      RequestCode.UPDATE_AND_CREATE_TOPIC,
      toExtFields({
        topic,
        defaultTopic: "TBW102",
        readQueueNums: queues,
        writeQueueNums: queues,
        perm: 6,
        topicFilterType: "SINGLE_TAG",
        topicSysFlag: 0,
        order: false,
      }),
    ),
  );
}

/** Adds RocketMQ ACL 1.0 credentials to a request (what `AclClientRPCHook` does). */
export function signRequest(request: RemotingCommand, accessKey: string, secretKey: string): Promise<RemotingCommand> {
  return Promise.resolve(signCommand(request, { accessKey, secretKey }));
}

/** Options of {@linkcode heartbeat}. */
export interface HeartbeatOptions {
  messageModel?: "CLUSTERING" | "BROADCASTING";
  consumeFromWhere?: string;
  /** The producer group the client also announces (Java's inner producer by default). */
  producerGroup?: string;
}

/** A HEART_BEAT announcing `group` as a push consumer of `topics` with `*` subscriptions. */
export function heartbeat(
  clientId: string,
  group: string,
  topics: string[],
  options: HeartbeatOptions = {},
): RemotingCommand {
  return createRequest(RequestCode.HEART_BEAT, {}, {
    body: encodeJsonBody({
      clientID: clientId,
      consumerDataSet: [{
        consumeFromWhere: options.consumeFromWhere ?? "CONSUME_FROM_FIRST_OFFSET",
        consumeType: "CONSUME_PASSIVELY",
        groupName: group,
        messageModel: options.messageModel ?? "CLUSTERING",
        subscriptionDataSet: topics.map((topic) => ({
          classFilterMode: false,
          codeSet: [],
          expressionType: "TAG",
          subString: "*",
          subVersion: 1,
          tagsSet: [],
          topic,
        })),
        unitMode: false,
      }],
      producerDataSet: [{ groupName: options.producerGroup ?? "CLIENT_INNER_PRODUCER" }],
    }),
  });
}
