/**
 * Test helper: gives a broker data the admin tools can show — a topic with keyed messages, a
 * consumer group that is online (a heartbeat on an open connection) and behind (committed
 * offsets short of the end), and dead letters (CONSUMER_SEND_MSG_BACK with delay level -1).
 *
 * @module
 */

import type { RemotingClient } from "../client/remoting_client.ts";
import { createRequest, type RemotingCommand } from "../protocol/command.ts";
import { toExtFields } from "../protocol/header.ts";
import { decodeOffsetMessageId } from "../protocol/message.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { createTopic, heartbeat, sendV2 } from "./_wire.ts";

/** What {@linkcode seedBroker} made. */
export interface Seeded {
  topic: string;
  group: string;
  /** Per message: key, client id, offsetMsgId, queue and offset. */
  sent: { key: string; msgId: string; offsetMsgId: string; queueId: number; queueOffset: number }[];
  /** offsetMsgIds of the originals sent to the DLQ. */
  deadLetterOrigins: string[];
}

function ok(response: RemotingCommand, what: string): RemotingCommand {
  if (response.code !== ResponseCode.SUCCESS) throw new Error(`${what}: ${response.code} ${response.remark}`);
  return response;
}

/**
 * Seeds `brokerAddr`: topic `topic` (4 queues) with `count` messages keyed `key-<i>` and tagged
 * `TagA`; group `group` (and producer group `SeedProducer`) online through `client` and committed at offset 0 on every queue (so its
 * lag is `count`); and `deadLetters` of the messages sent to `%DLQ%<group>`.
 */
export async function seedBroker(
  client: RemotingClient,
  brokerAddr: string,
  options: { topic?: string; group?: string; count?: number; deadLetters?: number } = {},
): Promise<Seeded> {
  const topic = options.topic ?? "SeedTopic";
  const group = options.group ?? "SeedGroup";
  const count = options.count ?? 8;
  ok(await createTopic(client, brokerAddr, topic, 4), "create topic");
  const sent: Seeded["sent"] = [];
  for (let i = 0; i < count; i++) {
    const msgId = `ABCD${String(i).padStart(28, "0")}`;
    const response = ok(
      await sendV2(client, brokerAddr, {
        topic,
        queueId: i % 4,
        body: `body-${i}`,
        properties: { KEYS: `key-${i}`, TAGS: "TagA", UNIQ_KEY: msgId },
      }),
      "send",
    );
    sent.push({
      key: `key-${i}`,
      msgId,
      offsetMsgId: response.extFields.msgId,
      queueId: Number(response.extFields.queueId),
      queueOffset: Number(response.extFields.queueOffset),
    });
  }
  ok(
    await client.invoke(
      brokerAddr,
      heartbeat("seed-client@1", group, [topic], {
        consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
        producerGroup: "SeedProducer",
      }),
    ),
    "heartbeat",
  );
  for (let queueId = 0; queueId < 4; queueId++) {
    ok(
      await client.invoke(
        brokerAddr,
        createRequest(
          RequestCode.UPDATE_CONSUMER_OFFSET,
          toExtFields({ consumerGroup: group, topic, queueId, commitOffset: 0 }),
        ),
      ),
      "commit offset",
    );
  }
  const deadLetterOrigins: string[] = [];
  for (const message of sent.slice(0, options.deadLetters ?? 0)) {
    const { commitLogOffset } = decodeOffsetMessageId(message.offsetMsgId);
    ok(
      await client.invoke(
        brokerAddr,
        createRequest(
          RequestCode.CONSUMER_SEND_MSG_BACK,
          toExtFields({
            offset: commitLogOffset,
            group,
            delayLevel: -1,
            originMsgId: message.msgId,
            originTopic: topic,
            maxReconsumeTimes: 16,
          }),
        ),
      ),
      "send back to the DLQ",
    );
    deadLetterOrigins.push(message.offsetMsgId);
  }
  return { topic, group, sent, deadLetterOrigins };
}
