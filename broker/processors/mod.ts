/**
 * The broker's request table: every code it accepts, its handler and its lane. Reading this
 * file tells what the broker serves; codes not listed are answered REQUEST_CODE_NOT_SUPPORTED.
 *
 * @module
 */

import { RequestCode } from "../../protocol/request_code.ts";
import type { ProcessorEntry, ProcessorTable } from "../../remoting/server.ts";
import { adminEntries } from "./admin.ts";
import { handleCheckClientConfig } from "./check_client_config.ts";
import { handleConsumerSendMsgBack } from "./consumer_send_msg_back.ts";
import { handleQueryConsumerOffset, handleUpdateConsumerOffset } from "./consumer_offset.ts";
import type { BrokerServices } from "./context.ts";
import { handleEndTransaction } from "./end_transaction.ts";
import { handleGetConsumerListByGroup } from "./get_consumer_list_by_group.ts";
import { handleHeartBeat } from "./heart_beat.ts";
import { handlePullMessage } from "./pull_message.ts";
import { handleQueryMessage, handleViewMessageById } from "./query_message.ts";
import { handleLockBatchMq, handleUnlockBatchMq } from "./queue_locks.ts";
import {
  handleGetEarliestMsgStoretime,
  handleGetMaxOffset,
  handleGetMinOffset,
  handleSearchOffsetByTimestamp,
} from "./queue_offsets.ts";
import { handleSendMessage } from "./send_message.ts";
import { handleSendReplyMessage } from "./send_reply_message.ts";
import { handleDeleteTopicInBroker, handleGetAllTopicConfig, handleUpdateAndCreateTopic } from "./topic_admin.ts";
import { handleUnregisterClient } from "./unregister_client.ts";

export type { BrokerServices } from "./context.ts";

/** Lanes: bounded work queues, named as RocketMQ names its executors. */
export type BrokerLane =
  | "send"
  | "pull"
  | "query"
  | "heartbeat"
  | "clientManage"
  | "consumerManage"
  | "admin"
  | "transaction";

/** Builds the broker's code → handler table over `s` (the main port's table). */
export function createBrokerProcessors(s: BrokerServices): ProcessorTable {
  const send: ProcessorEntry = { lane: "send", handle: (r, c) => handleSendMessage(r, c, s) };
  return new Map<number, ProcessorEntry>([
    [RequestCode.SEND_MESSAGE, send],
    [RequestCode.SEND_MESSAGE_V2, send],
    [RequestCode.SEND_BATCH_MESSAGE, send],
    [RequestCode.SEND_REPLY_MESSAGE, { lane: "send", handle: (r, c) => handleSendReplyMessage(r, c, s) }],
    [RequestCode.SEND_REPLY_MESSAGE_V2, { lane: "send", handle: (r, c) => handleSendReplyMessage(r, c, s) }],
    [RequestCode.CONSUMER_SEND_MSG_BACK, { lane: "send", handle: (r) => handleConsumerSendMsgBack(r, s) }],
    [RequestCode.END_TRANSACTION, { lane: "transaction", handle: (r) => handleEndTransaction(r, s) }],
    [RequestCode.PULL_MESSAGE, { lane: "pull", handle: (r) => handlePullMessage(r, s) }],
    [RequestCode.QUERY_MESSAGE, { lane: "query", handle: (r) => handleQueryMessage(r, s) }],
    [RequestCode.VIEW_MESSAGE_BY_ID, { lane: "query", handle: (r) => handleViewMessageById(r, s) }],
    [RequestCode.HEART_BEAT, { lane: "heartbeat", handle: (r, c) => handleHeartBeat(r, c, s) }],
    [RequestCode.UNREGISTER_CLIENT, { lane: "clientManage", handle: (r, c) => handleUnregisterClient(r, c, s) }],
    [RequestCode.CHECK_CLIENT_CONFIG, { lane: "clientManage", handle: (r) => handleCheckClientConfig(r, s) }],
    [RequestCode.GET_CONSUMER_LIST_BY_GROUP, {
      lane: "consumerManage",
      handle: (r) => handleGetConsumerListByGroup(r, s),
    }],
    [RequestCode.QUERY_CONSUMER_OFFSET, { lane: "consumerManage", handle: (r) => handleQueryConsumerOffset(r, s) }],
    [RequestCode.UPDATE_CONSUMER_OFFSET, { lane: "consumerManage", handle: (r) => handleUpdateConsumerOffset(r, s) }],
    [RequestCode.GET_MAX_OFFSET, { lane: "admin", handle: (r) => handleGetMaxOffset(r, s) }],
    [RequestCode.GET_MIN_OFFSET, { lane: "admin", handle: (r) => handleGetMinOffset(r, s) }],
    [RequestCode.GET_EARLIEST_MSG_STORETIME, { lane: "admin", handle: (r) => handleGetEarliestMsgStoretime(r, s) }],
    [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { lane: "admin", handle: (r) => handleSearchOffsetByTimestamp(r, s) }],
    [RequestCode.LOCK_BATCH_MQ, { lane: "admin", handle: (r) => handleLockBatchMq(r, s) }],
    [RequestCode.UNLOCK_BATCH_MQ, { lane: "admin", handle: (r) => handleUnlockBatchMq(r, s) }],
    [RequestCode.UPDATE_AND_CREATE_TOPIC, { lane: "admin", handle: (r) => handleUpdateAndCreateTopic(r, s) }],
    [RequestCode.DELETE_TOPIC_IN_BROKER, { lane: "admin", handle: (r) => handleDeleteTopicInBroker(r, s) }],
    [RequestCode.GET_ALL_TOPIC_CONFIG, { lane: "admin", handle: (r) => handleGetAllTopicConfig(r, s) }],
    ...adminEntries(s),
  ]);
}

/**
 * The VIP port's table (`listenPort - 2`): everything but PULL_MESSAGE, as in RocketMQ 4.9.x —
 * Java clients with `vipChannelEnabled` send, commit offsets, lock and query there.
 */
export function createVipProcessors(main: ProcessorTable): ProcessorTable {
  const vip = new Map(main);
  vip.delete(RequestCode.PULL_MESSAGE);
  return vip;
}
