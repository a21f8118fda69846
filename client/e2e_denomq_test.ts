/**
 * The client's end-to-end scenarios against a real denomq process (`main.ts dev`: NameServer and
 * broker in one process, a fresh temporary data directory). Part of `deno task test`;
 * `DENOMQ_E2E_DENOMQ=0` skips them:
 *
 * ```sh
 * deno test -A client/e2e_denomq_test.ts
 * ```
 *
 * The broker-restart scenario stops the process with SIGTERM and starts it again on the same
 * ports and data directory. `DENOMQ_E2E_VERBOSE=1` shows client warnings.
 *
 * @module
 */

import process from "node:process";
import { brokerRestartLosesNothing, type E2eContext, SCENARIOS } from "./e2e_scenarios.ts";

const enabled = process.env.DENOMQ_E2E_DENOMQ !== "0";
const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface DevProcess {
  nameServer: string;
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function startDev(dataDir: string, namesrvPort: number, brokerPort: number): Promise<DevProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "dev",
      "--data",
      dataDir,
      "--namesrv-port",
      String(namesrvPort),
      "--broker-port",
      String(brokerPort),
      "--log-level",
      "warning",
      // Small segments start fast; one-second delay levels keep retry → DLQ scenarios short.
      "--set",
      "mappedFileSizeCommitLog=16777216",
      "--set",
      "messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s",
    ],
    stdout: "piped",
    stderr: process.env.DENOMQ_E2E_VERBOSE === "1" ? "inherit" : "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let ready: { namesrvAddr?: string; addr?: string } | undefined;
  const deadline = Date.now() + 30_000;
  while (!ready) {
    if (Date.now() > deadline) throw new Error("denomq dev did not print its ready line within 30 s");
    const { value, done } = await reader.read();
    if (done) throw new Error("denomq dev exited before it was ready");
    text += decoder.decode(value);
    for (const line of text.split("\n")) {
      try {
        const parsed = JSON.parse(line);
        if (parsed.event === "ready") ready = parsed;
      } catch {
        // not a complete JSON line yet
      }
    }
  }
  const drain = (async () => {
    try {
      while (!(await reader.read()).done) {
        // keep the pipe flowing
      }
    } catch {
      // process gone
    }
  })();
  return {
    nameServer: ready.namesrvAddr ?? ready.addr!,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      await child.status;
      await drain;
    },
  };
}

let dev: DevProcess | undefined;
let dataDir = "";
let ports: [number, number] = [0, 0];

async function ensureDev(): Promise<E2eContext> {
  if (!dev) {
    dataDir = await Deno.makeTempDir({ prefix: "denomq-client-e2e-" });
    ports = [freePort(), freePort()];
    dev = await startDev(dataDir, ports[0], ports[1]);
  }
  return {
    nameServer: dev.nameServer,
    verbose: process.env.DENOMQ_E2E_VERBOSE === "1",
    delayLevelsMs: Array(18).fill(1000),
    restartBroker: async () => {
      await dev!.stop();
      dev = await startDev(dataDir, ports[0], ports[1]);
    },
  };
}

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  Deno.test({
    name: `e2e (denomq): ${name}`,
    ignore: !enabled,
    sanitizeResources: false, // the shared dev process outlives each test
    sanitizeOps: false,
    fn: async () => scenario(await ensureDev()),
  });
}

Deno.test({
  name: "e2e (denomq): brokerRestartLosesNothing",
  ignore: !enabled,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => brokerRestartLosesNothing(await ensureDev()),
});

Deno.test({
  name: "e2e (denomq): stop the dev process",
  ignore: !enabled,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await dev?.stop();
    dev = undefined;
    if (dataDir) await Deno.remove(dataDir, { recursive: true });
  },
});
