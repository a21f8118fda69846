/**
 * Admin request codes beyond topics: subscription groups, runtime info, stats, connections,
 * offsets, broker config, store housekeeping and the relays to clients. Each family lives in its
 * own file; this one lists their table entries for `mod.ts`. All run in the admin lane, as
 * RocketMQ runs them on its admin executor.
 *
 * @module
 */

import { RequestCode } from "../../protocol/request_code.ts";
import type { ProcessorEntry } from "../../remoting/server.ts";
import { handleGetBrokerConfig, handleUpdateBrokerConfig } from "./broker_config_admin.ts";
import {
  handleConsumeMessageDirectly,
  handleGetConsumerRunningInfo,
  handleInvokeBrokerToGetConsumerStatus,
} from "./client_relay.ts";
import {
  handleGetAllProducerInfo,
  handleGetConsumerConnectionList,
  handleGetProducerConnectionList,
  handleQueryTopicConsumeByWho,
} from "./connection_admin.ts";
import type { BrokerServices } from "./context.ts";
import {
  handleCloneGroupOffset,
  handleGetAllConsumerOffset,
  handleGetAllDelayOffset,
  handleInvokeBrokerToResetOffset,
  handleQueryCorrectionOffset,
} from "./offset_admin.ts";
import { handleGetBrokerRuntimeInfo } from "./runtime_info.ts";
import {
  handleGetBrokerConsumeStats,
  handleGetConsumeStats,
  handleGetTopicStatsInfo,
  handleQueryConsumeTimeSpan,
  handleViewBrokerStatsData,
} from "./stats_admin.ts";
import {
  handleCleanExpiredConsumeQueue,
  handleCleanUnusedTopic,
  handleDeleteExpiredCommitLog,
  handleGetSystemTopicListFromBroker,
  handleQueryConsumeQueue,
} from "./store_admin.ts";
import {
  handleDeleteSubscriptionGroup,
  handleGetAllSubscriptionGroupConfig,
  handleUpdateAndCreateSubscriptionGroup,
} from "./subscription_group_admin.ts";

/** Table entries of the admin families. */
export function adminEntries(s: BrokerServices): [number, ProcessorEntry][] {
  const admin = (handle: ProcessorEntry["handle"]): ProcessorEntry => ({ lane: "admin", handle });
  return [
    // subscription_group_admin.ts
    [RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, admin((r) => handleUpdateAndCreateSubscriptionGroup(r, s))],
    [RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, admin((r) => handleGetAllSubscriptionGroupConfig(r, s))],
    [RequestCode.DELETE_SUBSCRIPTIONGROUP, admin((r) => handleDeleteSubscriptionGroup(r, s))],
    // runtime_info.ts
    [RequestCode.GET_BROKER_RUNTIME_INFO, admin((r) => handleGetBrokerRuntimeInfo(r, s))],
    // stats_admin.ts
    [RequestCode.GET_TOPIC_STATS_INFO, admin((r) => handleGetTopicStatsInfo(r, s))],
    [RequestCode.GET_CONSUME_STATS, admin((r) => handleGetConsumeStats(r, s))],
    [RequestCode.GET_BROKER_CONSUME_STATS, admin((r) => handleGetBrokerConsumeStats(r, s))],
    [RequestCode.QUERY_CONSUME_TIME_SPAN, admin((r) => handleQueryConsumeTimeSpan(r, s))],
    [RequestCode.VIEW_BROKER_STATS_DATA, admin((r) => handleViewBrokerStatsData(r, s))],
    // connection_admin.ts
    [RequestCode.GET_CONSUMER_CONNECTION_LIST, admin((r) => handleGetConsumerConnectionList(r, s))],
    [RequestCode.GET_PRODUCER_CONNECTION_LIST, admin((r) => handleGetProducerConnectionList(r, s))],
    [RequestCode.GET_ALL_PRODUCER_INFO, admin((r) => handleGetAllProducerInfo(r, s))],
    [RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, admin((r) => handleQueryTopicConsumeByWho(r, s))],
    // offset_admin.ts
    [RequestCode.GET_ALL_CONSUMER_OFFSET, admin((r) => handleGetAllConsumerOffset(r, s))],
    [RequestCode.GET_ALL_DELAY_OFFSET, admin((r) => handleGetAllDelayOffset(r, s))],
    [RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, admin((r) => handleInvokeBrokerToResetOffset(r, s))],
    [RequestCode.CLONE_GROUP_OFFSET, admin((r) => handleCloneGroupOffset(r, s))],
    [RequestCode.QUERY_CORRECTION_OFFSET, admin((r) => handleQueryCorrectionOffset(r, s))],
    // broker_config_admin.ts
    [RequestCode.GET_BROKER_CONFIG, admin((r) => handleGetBrokerConfig(r, s))],
    [RequestCode.UPDATE_BROKER_CONFIG, admin((r) => handleUpdateBrokerConfig(r, s))],
    // store_admin.ts
    [RequestCode.QUERY_CONSUME_QUEUE, admin((r) => handleQueryConsumeQueue(r, s))],
    [RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER, admin((r) => handleGetSystemTopicListFromBroker(r, s))],
    [RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE, admin((r) => handleCleanExpiredConsumeQueue(r, s))],
    [RequestCode.CLEAN_UNUSED_TOPIC, admin((r) => handleCleanUnusedTopic(r, s))],
    [RequestCode.DELETE_EXPIRED_COMMITLOG, admin((r) => handleDeleteExpiredCommitLog(r, s))],
    // client_relay.ts
    [RequestCode.GET_CONSUMER_RUNNING_INFO, admin((r) => handleGetConsumerRunningInfo(r, s))],
    [RequestCode.CONSUME_MESSAGE_DIRECTLY, admin((r) => handleConsumeMessageDirectly(r, s))],
    [RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS, admin((r) => handleInvokeBrokerToGetConsumerStatus(r, s))],
  ];
}
