/**
 * `deno task torture <suite>`: the reliability suites, seeded and replayable.
 *
 * ```sh
 * deno task torture crash --cycles 100 [--seed S]
 * deno task torture fuzz --frames 1000000 [--seed S] [--namesrv host:port --broker host:port]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startCluster } from "../tests/_process.ts";
import { runCorruptTorture } from "./corrupt.ts";
import { runCrashTorture } from "./crash.ts";
import { fuzzFailures, runFuzz } from "./fuzz.ts";
import { seedFrom } from "./_random.ts";

const USAGE = `Usage: deno task torture <suite> [options]

Suites:
  crash   kill -9 a SYNC_FLUSH broker under load, restart, verify every acknowledged message
          --cycles <n> [default 10]  --seed <s>  --producers <n> [default 32]  --flush sync|async [default sync]
  corrupt truncate or flip bits in commit-log, consume-queue, index and checkpoint files between runs
          --rounds <n> [default 50]  --seed <s>  --messages <n> [default 2000]
  fuzz    random and malformed frames against a live NameServer and broker, with a canary client
          --frames <n> [default 100000]  --seed <s>  --connections <n> [default 4]
          --namesrv <addr> --broker <addr>  (default: start both as processes)

Every run prints its seed; DENOMQ_SEED=<s> or --seed <s> replays it.`;

/**
 * Memory growth allowed after warm-up, KiB. Measured here: 400,000 frames against one pair of
 * servers plateaued at +0.3 MiB per 100,000 frames after the first; a leak of even a few hundred
 * bytes per frame would exceed this over a long run.
 */
const FUZZ_RSS_GROWTH_KB_MAX = 48 * 1024;

function line(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`\r${text.padEnd(100)}`));
}

async function crash(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      cycles: { type: "string" },
      seed: { type: "string" },
      producers: { type: "string" },
      flush: { type: "string" },
    },
  });
  const flushDiskType = values.flush === "async" ? "ASYNC_FLUSH" : "SYNC_FLUSH";
  const seed = seedFrom(values.seed);
  const cycles = Number(values.cycles ?? 10);
  console.log(`crash torture: ${cycles} cycles, ${flushDiskType}, seed ${seed} (replay with --seed ${seed})`);
  const report = await runCrashTorture({
    cycles,
    seed,
    flushDiskType,
    producers: values.producers ? Number(values.producers) : undefined,
    onCycle: (c) =>
      line(
        `cycle ${c.cycle}/${cycles}: ${c.acknowledged} acknowledged, killed after ${c.killedAfterMs} ms, recovered in ${c.recoveryMs} ms, lost ${c.lost}`,
      ),
  });
  console.log(
    `\nSUMMARY crash torture seed ${seed}: ${report.cycles.length} cycles, ${report.acknowledged} messages acknowledged, ` +
      `${report.lost} lost, ${report.duplicated} duplicated, ${report.corrupt} corrupt, ${report.offsetsAhead} offsets ahead of data, ` +
      `recovery median ${report.recoveryMsMedian} ms / max ${report.recoveryMsMax} ms, ${report.seconds.toFixed(1)} s`,
  );
  console.log(JSON.stringify({ suite: "crash", ...report, cycles: report.cycles.length }));
  const ok = report.cycles.length === cycles &&
    report.lost + report.duplicated + report.corrupt + report.offsetsAhead === 0;
  return ok ? 0 : 1;
}

async function corrupt(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { rounds: { type: "string" }, seed: { type: "string" }, messages: { type: "string" } },
  });
  const seed = seedFrom(values.seed);
  const rounds = Number(values.rounds ?? 50);
  console.log(`corrupt torture: ${rounds} rounds, seed ${seed} (replay with --seed ${seed})`);
  const report = await runCorruptTorture({
    rounds,
    seed,
    messages: values.messages ? Number(values.messages) : undefined,
    onRound: (r) =>
      line(
        `round ${r.round}/${rounds}: ${r.file} ${
          r.change.slice(0, 40)
        }; started ${r.started}, served ${r.served}, bad ${r.bad}`,
      ),
  });
  console.log(
    `\nSUMMARY corrupt torture seed ${seed}: ${report.corruptionsInjected} corruptions of ${report.sent} messages' files, ` +
      `${report.startsFailed} failed starts, ${report.badServed} bad records served, ${report.reported} rounds where the broker ` +
      `logged what it found, fewest messages served in a round ${report.servedMin}, ` +
      `${report.seconds.toFixed(1)} s`,
  );
  console.log(JSON.stringify({ suite: "corrupt", ...report, rounds: report.rounds.length }));
  return report.startsFailed === 0 && report.badServed === 0 ? 0 : 1;
}

async function fuzz(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      frames: { type: "string" },
      seed: { type: "string" },
      connections: { type: "string" },
      namesrv: { type: "string" },
      broker: { type: "string" },
    },
  });
  const seed = seedFrom(values.seed);
  const frames = Number(values.frames ?? 100_000);
  console.log(`fuzz: ${frames} frames, seed ${seed} (replay with --seed ${seed})`);
  const cluster = values.namesrv && values.broker ? undefined : await startCluster({ longPollMsMax: "500" });
  try {
    const report = await runFuzz({
      frames,
      seed,
      connections: values.connections ? Number(values.connections) : undefined,
      namesrv: (values.namesrv as string | undefined) ?? cluster!.namesrv,
      broker: (values.broker as string | undefined) ?? cluster!.brokerAddr,
      pids: cluster ? { nameserver: cluster.nameServer.child.pid, broker: cluster.broker.child.pid } : undefined,
      onProgress: (done, r) =>
        line(
          `${done}/${frames} frames, ${r.answered} answered, ${r.closedByServer} closed, ${r.hangs} hangs, canary ${r.canaryOps} ok`,
        ),
    });
    const failures = fuzzFailures(report, FUZZ_RSS_GROWTH_KB_MAX);
    console.log(
      `\nSUMMARY fuzz seed ${seed}: ${report.frames} frames in ${
        report.seconds.toFixed(1)
      } s, ${report.answered} answered, ` +
        `${report.closedByServer} connections closed by the server, ${report.hangs} hangs, ${report.wrong.length} wrong; ` +
        `canary ${report.canaryOps} round trips, ${report.canaryFailures} failed, slowest ${
          report.canaryMaxMs.toFixed(1)
        } ms; ` +
        `RSS KiB start ${JSON.stringify(report.rssBeforeKb)} warm ${JSON.stringify(report.rssWarmKb)} end ${
          JSON.stringify(report.rssAfterKb)
        }`,
    );
    console.log(JSON.stringify({ suite: "fuzz", ...report }));
    for (const failure of failures) console.log(`FAIL: ${failure}`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    await cluster?.close();
  }
}

if (import.meta.main) {
  const [suite, ...rest] = Deno.args;
  if (suite === "crash") Deno.exit(await crash(rest));
  if (suite === "fuzz") Deno.exit(await fuzz(rest));
  if (suite === "corrupt") Deno.exit(await corrupt(rest));
  console.error(USAGE);
  Deno.exit(suite === "--help" || suite === "-h" ? 0 : 2);
}
