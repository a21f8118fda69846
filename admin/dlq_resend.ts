/**
 * `dlqResend --group <group> --msgId <id>`: send one DLQ message back to the group's retry topic
 * (its client id, keys, tags and original topic kept; reconsume count 0). Audited.
 *
 * @module
 */

import { DlqOps } from "../ops/dlq.ts";
import { type AdminCommand, AdminError, required } from "./_command.ts";

/** The dlqResend subcommand. */
export const dlqResend: AdminCommand = {
  name: "dlqResend",
  description: "Resend one dead-letter message to its group's retry topic",
  options: {
    group: { type: "string", short: "g" },
    msgId: { type: "string", short: "i" },
  },
  usage: [
    "  -g, --group <group>   consumer group (required)",
    "  -i, --msgId <id>      the message's client id or offsetMsgId (required)",
  ].join("\n"),
  async run(context) {
    const group = required(context, "group", "--group <group>");
    const msgId = required(context, "msgId", "--msgId <id>");
    const dlq = new DlqOps(context.ops, { audit: context.audit, actor: "cli" });
    const outcome = await dlq.resend(group, msgId);
    if (context.json) context.out(JSON.stringify(outcome));
    else context.out(`${outcome.outcome} ${outcome.msgId}: ${outcome.detail}`);
    if (outcome.outcome === "failed") throw new AdminError(`Resend of "${msgId}" failed: ${outcome.detail}`);
  },
};
