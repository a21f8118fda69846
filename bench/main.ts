/**
 * `deno task bench <scenario> [options]`: denomq's benchmarks. Each scenario prints a live
 * progress line, a summary table and one JSON line for machines.
 *
 * @module
 */

const SCENARIOS: Record<string, { description: string; run: () => Promise<(args: string[]) => Promise<void>> }> = {
  store: {
    description: "the message store alone vs raw Deno.FsFile write+fdatasync (SYNC/ASYNC appends, reads)",
    run: async () => (await import("./store.ts")).runStoreBench,
  },
};

function usage(): string {
  const lines = Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(10)} ${s.description}`);
  return `Usage: deno task bench <scenario> [options]\n\nScenarios:\n${lines.join("\n")}\n\n` +
    `Run "deno task bench <scenario> --help" for a scenario's options.`;
}

if (import.meta.main) {
  const [name, ...args] = Deno.args;
  const scenario = name ? SCENARIOS[name] : undefined;
  if (!scenario) {
    console.error(name ? `Unknown scenario "${name}"\n\n${usage()}` : usage());
    Deno.exit(name === "--help" || name === "-h" ? 0 : 2);
  }
  await (await scenario.run())(args);
}
