/**
 * The NameServer's request table: every code it accepts, its handler and its lane. Codes not
 * listed are answered REQUEST_CODE_NOT_SUPPORTED (3) by the server core.
 *
 * @module
 */

import { RequestCode } from "../../protocol/request_code.ts";
import type { ProcessorTable } from "../../remoting/server.ts";
import type { NameServerServices } from "./context.ts";
import { handleDeleteTopicInNamesrv } from "./delete_topic_in_namesrv.ts";
import { handleGetBrokerClusterInfo } from "./get_broker_cluster_info.ts";
import { handleGetRouteInfoByTopic } from "./get_route_info_by_topic.ts";
import { handleDeleteKvConfig, handleGetKvConfig, handleGetKvListByNamespace, handlePutKvConfig } from "./kv_config.ts";
import { handleGetNamesrvConfig, handleUpdateNamesrvConfig } from "./namesrv_config.ts";
import { handleQueryDataVersion } from "./query_data_version.ts";
import { handleRegisterBroker } from "./register_broker.ts";
import {
  handleGetAllTopicList,
  handleGetHasUnitSubTopicList,
  handleGetHasUnitSubUnunitTopicList,
  handleGetSystemTopicList,
  handleGetTopicsByCluster,
  handleGetUnitTopicList,
} from "./topic_lists.ts";
import { handleUnregisterBroker } from "./unregister_broker.ts";
import { handleAddWritePermOfBroker, handleWipeWritePermOfBroker } from "./write_perm_of_broker.ts";

export type { NameServerServices } from "./context.ts";

/** Builds the NameServer's code → handler table over `services`. */
export function createNameServerProcessors(s: NameServerServices): ProcessorTable {
  return new Map([
    [RequestCode.PUT_KV_CONFIG, { lane: "default", handle: (r) => handlePutKvConfig(r, s) }],
    [RequestCode.GET_KV_CONFIG, { lane: "default", handle: (r) => handleGetKvConfig(r, s) }],
    [RequestCode.DELETE_KV_CONFIG, { lane: "default", handle: (r) => handleDeleteKvConfig(r, s) }],
    [RequestCode.GET_KVLIST_BY_NAMESPACE, { lane: "default", handle: (r) => handleGetKvListByNamespace(r, s) }],
    [RequestCode.REGISTER_BROKER, { lane: "register", handle: (r, c) => handleRegisterBroker(r, c, s) }],
    [RequestCode.UNREGISTER_BROKER, { lane: "register", handle: (r) => handleUnregisterBroker(r, s) }],
    [RequestCode.QUERY_DATA_VERSION, { lane: "register", handle: (r) => handleQueryDataVersion(r, s) }],
    [RequestCode.GET_ROUTEINFO_BY_TOPIC, { lane: "default", handle: (r) => handleGetRouteInfoByTopic(r, s) }],
    [RequestCode.GET_BROKER_CLUSTER_INFO, { lane: "default", handle: (r) => handleGetBrokerClusterInfo(r, s) }],
    [RequestCode.WIPE_WRITE_PERM_OF_BROKER, { lane: "default", handle: (r) => handleWipeWritePermOfBroker(r, s) }],
    [RequestCode.ADD_WRITE_PERM_OF_BROKER, { lane: "default", handle: (r) => handleAddWritePermOfBroker(r, s) }],
    [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, { lane: "default", handle: (r) => handleGetAllTopicList(r, s) }],
    [RequestCode.DELETE_TOPIC_IN_NAMESRV, { lane: "default", handle: (r) => handleDeleteTopicInNamesrv(r, s) }],
    [RequestCode.GET_TOPICS_BY_CLUSTER, { lane: "default", handle: (r) => handleGetTopicsByCluster(r, s) }],
    [RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, { lane: "default", handle: (r) => handleGetSystemTopicList(r, s) }],
    [RequestCode.GET_UNIT_TOPIC_LIST, { lane: "default", handle: (r) => handleGetUnitTopicList(r, s) }],
    [RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST, { lane: "default", handle: (r) => handleGetHasUnitSubTopicList(r, s) }],
    [
      RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST,
      { lane: "default", handle: (r) => handleGetHasUnitSubUnunitTopicList(r, s) },
    ],
    [RequestCode.UPDATE_NAMESRV_CONFIG, { lane: "default", handle: (r) => handleUpdateNamesrvConfig(r, s) }],
    [RequestCode.GET_NAMESRV_CONFIG, { lane: "default", handle: (r) => handleGetNamesrvConfig(r, s) }],
  ]);
}
