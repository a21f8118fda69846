/**
 * REGISTER_BROKER (103): a broker announces its address and (masters) its topic table.
 *
 * Brokers send it both two-way (start-up and every 30 s) and oneway (right after auto-creating a
 * topic). The body is a `RegisterBrokerBody` for request version ≥ 37 (V3_0_11), else a bare
 * topic-config wrapper; with `compressed=true` it is the zlib form. `bodyCrc32` ≠ 0 is checked.
 *
 * @module
 */

import { inflateSync } from "node:zlib";
import {
  decodeJsonBody,
  encodeJsonBody,
  kvTableJson,
  readCompressedRegisterBrokerBody,
  readRegisterBrokerBody,
  readTopicConfigWrapper,
  type RegisterBrokerBody,
} from "../../protocol/bodies.ts";
import { createResponse, type RemotingCommand } from "../../protocol/command.ts";
import { crc32Masked } from "../../protocol/crc32.ts";
import { ProtocolError, ResponseError } from "../../protocol/errors.ts";
import { readHeader, toExtFields } from "../../protocol/header.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { RequestContext } from "../../remoting/server.ts";
import { NAMESPACE_ORDER_TOPIC_CONFIG } from "../kv_config.ts";
import type { NameServerServices } from "./context.ts";

/** Request version from which the body is a RegisterBrokerBody (V3_0_11). */
const REGISTER_BODY_VERSION_MIN = 37;
/** An inflated compressed body larger than this is refused (a zip bomb would take the memory). */
const INFLATED_BODY_BYTES_MAX = 64 * 1024 * 1024;

const schema = {
  brokerName: "string",
  brokerAddr: "string",
  clusterName: "string",
  haServerAddr: "string",
  brokerId: "long",
  compressed: "boolean?",
  bodyCrc32: "int?",
} as const;

/** Handles REGISTER_BROKER. */
export function handleRegisterBroker(
  request: RemotingCommand,
  context: RequestContext,
  services: NameServerServices,
): RemotingCommand {
  const header = readHeader("REGISTER_BROKER header", schema, request.extFields);
  const body = request.body;
  if (header.bodyCrc32 && body && crc32Masked(body) !== header.bodyCrc32) {
    throw new ResponseError(
      ResponseCode.SYSTEM_ERROR,
      `crc32 not match: header says ${header.bodyCrc32}, body of ${body.length} bytes has ${crc32Masked(body)}`,
    );
  }
  const registration = readBody(request, header.compressed ?? false, services.topicsPerRegistrationMax);
  const result = services.routes.register({
    clusterName: header.clusterName,
    brokerAddr: header.brokerAddr,
    brokerName: header.brokerName,
    brokerId: header.brokerId,
    haServerAddr: header.haServerAddr,
    topicConfigWrapper: registration?.topicConfigWrapper,
    filterServerList: registration?.filterServerList ?? [],
    connectionId: context.connection.id,
  });
  services.log.debug("Registered broker {brokerName} {brokerAddr} (id {brokerId}) of {clusterName}", { ...header });
  const orderConfig = services.kv.list(NAMESPACE_ORDER_TOPIC_CONFIG);
  return createResponse(request, ResponseCode.SUCCESS, {
    extFields: toExtFields({ haServerAddr: result.haServerAddr, masterAddr: result.masterAddr }),
    body: orderConfig ? encodeJsonBody(kvTableJson(orderConfig)) : undefined,
  });
}

function readBody(request: RemotingCommand, compressed: boolean, topicsMax: number): RegisterBrokerBody | undefined {
  const body = request.body;
  if (!body || body.length === 0) return undefined;
  if (request.version < REGISTER_BODY_VERSION_MIN) {
    return {
      topicConfigWrapper: readTopicConfigWrapper(decodeJsonBody(body, "topic config wrapper")),
      filterServerList: [],
    };
  }
  let parsed: RegisterBrokerBody;
  if (compressed) {
    let inflated: Uint8Array;
    try {
      inflated = inflateSync(body, { maxOutputLength: INFLATED_BODY_BYTES_MAX });
    } catch (error) {
      throw new ProtocolError(`Cannot inflate compressed register body: ${(error as Error).message}`);
    }
    parsed = readCompressedRegisterBrokerBody(inflated, topicsMax);
  } else {
    parsed = readRegisterBrokerBody(decodeJsonBody(body, "register broker body"));
  }
  const count = parsed.topicConfigWrapper.topicConfigTable.size;
  if (count > topicsMax) {
    throw new ProtocolError(`Cannot register broker: body lists ${count} topics, limit is ${topicsMax}`);
  }
  return parsed;
}
