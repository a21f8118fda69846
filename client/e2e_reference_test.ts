/**
 * The client's end-to-end scenarios against a running broker, skipped unless
 * `DENOMQ_REFERENCE_NAMESRV` names its NameServer, e.g. the reference Apache RocketMQ 4.9.7:
 *
 * ```sh
 * DENOMQ_REFERENCE_NAMESRV=127.0.0.1:29876 deno test -A client/
 * ```
 *
 * The broker-restart scenario also needs `DENOMQ_REFERENCE_RESTART_CMD`, a shell command that
 * restarts the broker and returns when it is ready (it disturbs everyone using that broker, so
 * it is opt-in), e.g. `cd /work/shared/reference-rocketmq && ./run.sh stop && ./run.sh start`.
 * `DENOMQ_E2E_VERBOSE=1` shows client warnings.
 *
 * @module
 */

import process from "node:process";
import { brokerRestartLosesNothing, type E2eContext, SCENARIOS } from "./e2e_scenarios.ts";

const nameServer = process.env.DENOMQ_REFERENCE_NAMESRV;
const restartCommand = process.env.DENOMQ_REFERENCE_RESTART_CMD;

const ctx: E2eContext = {
  nameServer: nameServer ?? "",
  verbose: process.env.DENOMQ_E2E_VERBOSE === "1",
  restartBroker: restartCommand
    ? async () => {
      const { code } = await new Deno.Command("sh", { args: ["-c", restartCommand] }).output();
      if (code !== 0) throw new Error(`Restart command failed with exit code ${code}`);
    }
    : undefined,
};

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  Deno.test({
    name: `e2e (reference): ${name}`,
    ignore: !nameServer,
    fn: () => scenario(ctx),
  });
}

Deno.test({
  name: "e2e (reference): brokerRestartLosesNothing",
  ignore: !nameServer || !restartCommand,
  fn: () => brokerRestartLosesNothing(ctx),
});
