/**
 * `dlqRedrive --group <group> [--rate n] [--max n]`: send every dead-letter message of a group
 * back to its retry topic at a bounded rate, one line per outcome, resuming where the last
 * redrive stopped. Stops at the first failure (exit 1). Audited.
 *
 * @module
 */

import { DlqOps, REDRIVE_MESSAGES_DEFAULT, REDRIVE_MESSAGES_MAX, REDRIVE_RATE_DEFAULT } from "../ops/dlq.ts";
import { REDRIVE_RATE_MAX } from "../ops/rate_limit.ts";
import { type AdminCommand, AdminError, intFlag, numberFlag, required } from "./_command.ts";

/** The dlqRedrive subcommand. */
export const dlqRedrive: AdminCommand = {
  name: "dlqRedrive",
  description: "Redrive a group's dead-letter queue to its retry topic, rate-limited",
  options: {
    group: { type: "string", short: "g" },
    rate: { type: "string" },
    max: { type: "string" },
  },
  usage: [
    "  -g, --group <group>   consumer group (required)",
    `      --rate <n>        messages per second, up to ${REDRIVE_RATE_MAX} [default: ${REDRIVE_RATE_DEFAULT}]`,
    `      --max <n>         most messages, up to ${REDRIVE_MESSAGES_MAX} [default: ${REDRIVE_MESSAGES_DEFAULT}]`,
  ].join("\n"),
  async run(context) {
    const group = required(context, "group", "--group <group>");
    const rate = numberFlag(context, "rate", "--rate", REDRIVE_RATE_DEFAULT);
    const max = intFlag(context, "max", "--max", {
      fallback: REDRIVE_MESSAGES_DEFAULT,
      min: 1,
      max: REDRIVE_MESSAGES_MAX,
    });
    const dlq = new DlqOps(context.ops, { audit: context.audit, actor: "cli" });
    const controller = new AbortController();
    const onSignal = () => controller.abort(new Error("interrupted"));
    try {
      Deno.addSignalListener("SIGINT", onSignal);
    } catch { /* no signals here (Windows, or a worker) */ }
    try {
      const report = await dlq.redrive(group, {
        rate,
        max,
        signal: controller.signal,
        onOutcome: (o) => {
          context.out(
            context.json
              ? JSON.stringify(o)
              : `${o.outcome} ${o.msgId} (${o.brokerName} offset ${o.queueOffset}): ${o.detail}`,
          );
        },
      });
      const summary = { group, resent: report.resent, failed: report.failed, stoppedBy: report.stoppedBy };
      context.out(
        context.json
          ? JSON.stringify(summary)
          : `redrive of ${group}: ${report.resent} resent, ${report.failed} failed (${report.stoppedBy})`,
      );
      if (report.stoppedBy === "failed") throw new AdminError(`Redrive of "${group}" stopped at a failed resend`);
    } finally {
      try {
        Deno.removeSignalListener("SIGINT", onSignal);
      } catch { /* as above */ }
    }
  },
};
