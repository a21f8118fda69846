/**
 * denomq's RocketMQ client for Deno and Node: a producer, a push consumer and a lite pull
 * consumer speaking Apache RocketMQ 4.x's remoting protocol, so they work against denomq and
 * against any RocketMQ 4.x broker, and interoperate with Java, Go and Node clients in the same
 * groups (queue allocation, message ids, properties and compression are Java's).
 *
 * Everything is asynchronous and takes typed options objects; clients are
 * `AsyncDisposable` (`await using`), consumers are `AsyncIterable`, and waits accept an
 * `AbortSignal`. Nothing outside `_transport.ts` touches the `Deno` namespace.
 *
 * @example Produce and consume
 * ```ts ignore
 * import { Producer, PushConsumer } from "./mod.ts";
 *
 * const nameServer = "127.0.0.1:9876";
 * await using producer = new Producer({ nameServer, group: "shop" });
 * const sent = await producer.send({ topic: "orders", body: "order 42 paid", tags: "paid", keys: "order-42" });
 * console.log("stored as", sent.msgId, "at", sent.queue.queueId, sent.queueOffset);
 *
 * await using consumer = new PushConsumer({ nameServer, group: "billing", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
 * consumer.subscribe("orders", "paid || refunded");
 * await consumer.start();
 * for await (const message of consumer) {
 *   console.log(message.tags, message.keys, message.text);
 *   break; // leaving the loop acknowledges the message in hand
 * }
 * ```
 *
 * @example Ordered messages
 * ```ts ignore
 * import { Producer, PushConsumer } from "./mod.ts";
 *
 * const producer = new Producer({ nameServer: "127.0.0.1:9876" });
 * for (const step of ["created", "paid", "shipped"]) {
 *   await producer.send({ topic: "order-events", body: step }, { shardingKey: "order-42" });
 * }
 * const consumer = new PushConsumer({
 *   nameServer: "127.0.0.1:9876",
 *   group: "order-tracker",
 *   orderly: true,
 *   handler: (message) => console.log(message.text), // created, paid, shipped
 * });
 * consumer.subscribe("order-events");
 * await consumer.start();
 * ```
 *
 * @module
 */

export { Producer, splitBatches } from "./producer.ts";
export type { ProducerOptions, SendCallback, SendOptions, SendResult, SendStatus } from "./producer.ts";
export { PushConsumer } from "./consumer.ts";
export type { ConsumeContext, ConsumeResult, MessageHandler, PushConsumerOptions } from "./consumer.ts";
export { LitePullConsumer } from "./lite_pull_consumer.ts";
export type { LitePullConsumerOptions } from "./lite_pull_consumer.ts";
export { ReceivedMessage } from "./message.ts";
export type { Message, MessageQueue } from "./message.ts";
export type { ClientOptions, ConsumeFromWhere, MessageModel } from "./client_instance.ts";
export type { AclCredentials } from "../protocol/acl_signature.ts";
export { allocateAveragely, allocateAveragelyByCircle } from "./rebalance.ts";
export type { AllocateStrategy } from "./rebalance.ts";
export { selectByHash, selectRandom } from "./queue_selector.ts";
export type { QueueSelector, ShardingKey } from "./queue_selector.ts";
export { BrokerResponseError, ClientClosedError } from "./errors.ts";
export { RemotingTimeoutError, RemotingTransportError } from "./remoting_client.ts";
export { consoleLogger, silentLogger } from "./_log.ts";
export type { Logger } from "./_log.ts";
