/**
 * `topicList`: every topic with a route.
 *
 * @module
 */

import { decodeJsonBody } from "../protocol/bodies.ts";
import { ResponseError } from "../protocol/errors.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { type AdminCommand, callNameServer } from "./_command.ts";

/** The topicList subcommand. */
export const topicList: AdminCommand = {
  name: "topicList",
  description: "List all topics",
  options: {},
  usage: "",
  async run(context) {
    const response = await callNameServer(context, RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
    if (response.code !== ResponseCode.SUCCESS) throw new ResponseError(response.code, response.remark ?? "failed");
    const topics = ((decodeJsonBody(response.body, "topic list") as { topicList?: string[] }).topicList ?? []).sort();
    context.out(context.json ? JSON.stringify(topics) : topics.join("\n"));
  },
};
