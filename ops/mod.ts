/**
 * Operations shared by the `admin` CLI and the HTTP admin API, over RocketMQ's admin protocol:
 * cluster, brokers, topics, consumer groups, offsets, messages, broker config and the DLQ
 * workflow, with bounded fan-outs, a rate limiter and an audit log. Imports `protocol/`, the
 * client's `RemotingClient` type and the remoting server's table type; never the store.
 *
 * @module
 */

export * from "./admin_ops.ts";
export * from "./audit.ts";
export * from "./bodies.ts";
export * from "./dlq.ts";
export * from "./errors.ts";
export * from "./invoker.ts";
export * from "./message_view.ts";
export * from "./rate_limit.ts";
