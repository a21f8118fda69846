/**
 * `deno task bench <scenario> [options]`: denomq's benchmarks. Each scenario prints a live
 * progress line, a summary table and one JSON line for machines.
 *
 * @module
 */

const BROKER = "the broker driven by our client, SYNC_FLUSH and ASYNC_FLUSH (--peers: NATS, Redis)";

const SCENARIOS: Record<string, { description: string; run: () => Promise<(args: string[]) => Promise<unknown>> }> = {
  produce: { description: `producer throughput and ack latency: ${BROKER}`, run: broker("produce") },
  consume: { description: `draining a pre-filled backlog: ${BROKER}`, run: broker("consume") },
  e2e: { description: `produce and consume at once, end-to-end latency: ${BROKER}`, run: broker("e2e") },
  latency: { description: `one message at a time, unloaded: ${BROKER}`, run: broker("latency") },
  all: { description: "produce, consume, e2e and latency in one run", run: broker("all") },
  backlog: {
    description: "broker RSS while a backlog of 10M messages over 1,000 topics grows, then a restart",
    run: async () => (await import("./backlog.ts")).runBacklogBench,
  },
  restart: {
    description: "time to ready after a clean shutdown with 10 GiB of commit log",
    run: async () => (await import("./backlog.ts")).runRestartBench,
  },
  store: {
    description: "the message store alone vs raw Deno.FsFile write+fdatasync (SYNC/ASYNC appends, reads)",
    run: async () => (await import("./store.ts")).runStoreBench,
  },
  "client-produce": {
    description: "the client's producer alone (--fake-broker: against a stand-in broker)",
    run: async () => (await import("./client_produce.ts")).runProduceBench,
  },
};

function broker(scenario: string): () => Promise<(args: string[]) => Promise<unknown>> {
  return async () => {
    const { runBench } = await import("./run.ts");
    return (args: string[]) => runBench([scenario, ...args], { mayStartProcesses: true });
  };
}

function usage(): string {
  const lines = Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(15)} ${s.description}`);
  return `Usage: deno task bench <scenario> [options]\n\nScenarios:\n${lines.join("\n")}\n\n` +
    `Run "deno task bench <scenario> --help" for a scenario's options.`;
}

if (import.meta.main) {
  const [name, ...args] = Deno.args;
  // "produce,consume": several broker scenarios in one run (and one table).
  const brokerList = name?.includes(",") &&
    name.split(",").every((n) => ["produce", "consume", "e2e", "latency", "all"].includes(n));
  const scenario = brokerList ? { description: "", run: broker(name) } : name ? SCENARIOS[name] : undefined;
  if (!scenario) {
    console.error(name && !name.startsWith("-") ? `Unknown scenario "${name}"\n\n${usage()}` : usage());
    Deno.exit(name === "--help" || name === "-h" ? 0 : 2);
  }
  try {
    await (await scenario.run())(args);
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      console.error(`deno task bench ${name}: ${error.message}`);
      Deno.exit(2);
    }
    throw error;
  }
}
