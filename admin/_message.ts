/**
 * How queryMsgById, queryMsgByOffset and dlqList print a message, as mqadmin does.
 *
 * @module
 */

import type { MessageView } from "../ops/message_view.ts";
import { formatTime } from "./_command.ts";

/** mqadmin's message block: one `Name: value` line per field, then the body. */
export function messageBlock(m: MessageView): string {
  const props = Object.entries(m.properties).map(([k, v]) => `${k}=${v}`).join(", ");
  const lines: [string, string | number][] = [
    ["OffsetID", m.offsetMsgId],
    ["MsgId", m.msgId],
    ["Topic", m.topic],
    ["Tags", `[${m.tags}]`],
    ["Keys", `[${m.keys}]`],
    ["Broker Name", m.brokerName],
    ["Queue ID", m.queueId],
    ["Queue Offset", m.queueOffset],
    ["CommitLog Offset", m.commitLogOffset],
    ["Reconsume Times", m.reconsumeTimes],
    ["Born Timestamp", formatTime(m.bornTimestamp)],
    ["Store Timestamp", formatTime(m.storeTimestamp)],
    ["Born Host", m.bornHost],
    ["Store Host", m.storeHost],
    ["System Flag", m.sysFlag],
    ["Properties", `{${props}}`],
    ["Body Size", m.bodySize],
  ];
  const body = m.bodyEncoding === "base64" ? `(base64) ${m.body}` : m.body;
  return lines.map(([k, v]) => `${`${k}:`.padEnd(20)}${v}`).join("\n") +
    `\n${"Message Body:".padEnd(20)}${body}${m.bodyTruncated ? " …" : ""}`;
}

/** A one-line body preview for tables. */
export function bodyPreview(m: MessageView, width = 40): string {
  const text = (m.bodyEncoding === "base64" ? `(base64) ${m.body}` : m.body).replace(/\s+/g, " ");
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}
