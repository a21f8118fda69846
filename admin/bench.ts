/**
 * `bench`: `deno task bench` against the running cluster named by `-n` (like `nats bench`):
 * produce, consume, e2e or latency with our client, a live progress line, the summary table and
 * one JSON line. Starting brokers and peers needs more than the admin role's network permission:
 * that is `deno task bench`.
 *
 * @module
 */

import { BENCH_USAGE, runBench } from "../bench/run.ts";
import { type AdminCommand, AdminError } from "./_command.ts";

const PASSED_FLAGS = [
  "messages",
  "warmup",
  "size",
  "inflight",
  "producers",
  "queues",
  "pull-batch",
  "latency-messages",
  "consumer",
] as const;

/** The bench subcommand. */
export const bench: AdminCommand = {
  name: "bench",
  description: "Benchmark the cluster: produce, consume, e2e or latency with the denomq client",
  options: {
    scenario: { type: "string", short: "s" },
    ...Object.fromEntries(PASSED_FLAGS.map((flag) => [flag, { type: "string" }])),
  },
  usage: [
    "  -s, --scenario <name>     produce | consume | e2e | latency | all (comma-separated) [default: produce]",
    "      --messages <n>        measured messages [default: 500000]",
    "      --warmup <n>          unmeasured messages first [default: 100000]",
    "      --size <bytes>        body size [default: 1024]",
    "      --inflight <n>        sends in flight per producer [default: 256]",
    "      --producers <n>       producers [default: 1]",
    "      --queues <n>          queues of the bench topic [default: 8]",
    "      --pull-batch <n>      messages per pull [default: 1000]",
    "      --latency-messages <n> messages of the latency scenario [default: 20000]",
    "      --consumer lite|push|raw  consumer of consume and e2e (raw: records counted, consume only) [default: lite]",
  ].join("\n"),
  async run(context) {
    const args = [String(context.values.scenario ?? "produce"), "--namesrv", context.nameServers.join(";")];
    for (const flag of PASSED_FLAGS) {
      const value = context.values[flag];
      if (typeof value === "string") args.push(`--${flag}`, value);
    }
    if (context.json) args.push("--json");
    try {
      await runBench(args, { mayStartProcesses: false, out: context.out });
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError) {
        throw new AdminError(`${error.message}\n${BENCH_USAGE}`);
      }
      throw error;
    }
  },
};
