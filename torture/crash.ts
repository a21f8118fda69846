/**
 * Crash torture: producers send numbered messages to a SYNC_FLUSH broker and record every
 * acknowledgement; the broker is `kill -9`ed at a random moment (mid-append, mid-flush,
 * mid-rotation with tiny segments, during dispatch…), restarted, and a verifier reads every
 * queue: each acknowledged message must be present exactly once at its acknowledged queue
 * offset, records must pass their CRC, queue offsets must be contiguous, and committed consumer
 * offsets must never be ahead of the data.
 *
 * @module
 */

import { RemotingClient } from "../client/remoting_client.ts";
import { createRequest } from "../protocol/command.ts";
import { RequestCode } from "../protocol/request_code.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { type RoleProcess, startRole, tempDir } from "../tests/_process.ts";
import { createTopic, pull, sendV2 } from "../tests/_wire.ts";
import { Random } from "./_random.ts";

const decoder = new TextDecoder();

/** Options of {@linkcode runCrashTorture}. */
export interface CrashOptions {
  cycles: number;
  seed: number;
  /** Queues of the test topic. */
  queues?: number;
  /** Concurrent producers. */
  producers?: number;
  /** Commit-log segment size: small, so kills land mid-rotation too. */
  segmentBytes?: number;
  /** Longest load before a kill, ms. */
  loadMsMax?: number;
  /** SYNC_FLUSH (default) or ASYNC_FLUSH: both promise that a process crash loses nothing acknowledged. */
  flushDiskType?: "SYNC_FLUSH" | "ASYNC_FLUSH";
  onCycle?: (cycle: CycleReport) => void;
}

/** One kill/restart cycle. */
export interface CycleReport {
  cycle: number;
  acknowledged: number;
  lost: number;
  duplicated: number;
  corrupt: number;
  offsetsAhead: number;
  recoveryMs: number;
  killedAfterMs: number;
}

/** The whole run. */
export interface CrashReport {
  seed: number;
  cycles: CycleReport[];
  acknowledged: number;
  lost: number;
  duplicated: number;
  corrupt: number;
  offsetsAhead: number;
  recoveryMsMax: number;
  recoveryMsMedian: number;
  seconds: number;
}

interface Ack {
  queueId: number;
  queueOffset: number;
  body: string;
}

/** Runs the crash/restart loop. */
export async function runCrashTorture(options: CrashOptions): Promise<CrashReport> {
  const random = new Random(options.seed);
  const queues = options.queues ?? 4;
  const producers = options.producers ?? 32;
  const started = performance.now();
  const dir = await tempDir("torture");
  const nameServer = await startRole(["nameserver", "--port", "0"]);
  const namesrv = `127.0.0.1:${nameServer.ready.port}`;
  let port = 0;
  const launch = async (): Promise<{ broker: RoleProcess; ms: number }> => {
    const t0 = performance.now();
    const broker = await startRole([
      "broker",
      "--port",
      String(port),
      "-n",
      namesrv,
      "--store",
      dir.path,
      "--set",
      `flushDiskType=${options.flushDiskType ?? "SYNC_FLUSH"}`,
      "--set",
      `mappedFileSizeCommitLog=${options.segmentBytes ?? 1024 * 1024}`,
      "--set",
      "maxMessageSize=65536",
      "--set",
      "mappedFileSizeConsumeQueue=2000",
    ], { timeoutMs: 60_000 });
    port = Number(broker.ready.port);
    return { broker, ms: performance.now() - t0 };
  };
  const report: CrashReport = {
    seed: options.seed,
    cycles: [],
    acknowledged: 0,
    lost: 0,
    duplicated: 0,
    corrupt: 0,
    offsetsAhead: 0,
    recoveryMsMax: 0,
    recoveryMsMedian: 0,
    seconds: 0,
  };
  const acked: Ack[] = [];
  let sequence = 0;
  let { broker } = await launch();
  try {
    {
      const client = new RemotingClient();
      await createTopic(client, String(broker.ready.addr), "Torture", queues);
      await client.close();
    }
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const addr = String(broker.ready.addr);
      const client = new RemotingClient({ timeoutMs: 10_000 });
      let stop = false;
      const sender = async () => {
        while (!stop) {
          const n = sequence++;
          const queueId = n % queues;
          const body = `seq-${n}`;
          try {
            const r = await sendV2(client, addr, { topic: "Torture", queueId, body }, 10_000);
            if (r.code === ResponseCode.SUCCESS) {
              acked.push({ queueId, queueOffset: Number(r.extFields.queueOffset), body });
            }
          } catch {
            // the broker died mid-request: not acknowledged
          }
        }
      };
      // A consumer commits offsets as it goes, so commits race with the kill too.
      const committer = async () => {
        while (!stop) {
          const queueId = random.int(0, queues - 1);
          try {
            const max = await client.invoke(
              addr,
              createRequest(RequestCode.GET_MAX_OFFSET, { topic: "Torture", queueId: String(queueId) }),
            );
            await client.invokeOneway(
              addr,
              createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, {
                consumerGroup: "TortureGroup",
                topic: "Torture",
                queueId: String(queueId),
                commitOffset: max.extFields.offset ?? "0",
              }),
            );
          } catch { /* broker gone */ }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const loops = [...Array.from({ length: producers }, sender), committer()];
      const killedAfterMs = random.int(50, options.loadMsMax ?? 1500);
      await new Promise((resolve) => setTimeout(resolve, killedAfterMs));
      await broker.kill();
      stop = true;
      await Promise.all(loops);
      await client.close();

      const restarted = await launch();
      broker = restarted.broker;
      const cycleReport = await verify(String(broker.ready.addr), queues, acked);
      cycleReport.cycle = cycle;
      cycleReport.recoveryMs = Math.round(restarted.ms);
      cycleReport.killedAfterMs = killedAfterMs;
      report.cycles.push(cycleReport);
      options.onCycle?.(cycleReport);
      if (cycleReport.lost + cycleReport.duplicated + cycleReport.corrupt + cycleReport.offsetsAhead > 0) break;
    }
  } finally {
    await broker.stop();
    await nameServer.stop();
    await dir.remove();
  }
  report.acknowledged = acked.length;
  for (const c of report.cycles) {
    report.lost += c.lost;
    report.duplicated += c.duplicated;
    report.corrupt += c.corrupt;
    report.offsetsAhead += c.offsetsAhead;
  }
  const recoveries = report.cycles.map((c) => c.recoveryMs).sort((a, b) => a - b);
  report.recoveryMsMax = recoveries.at(-1) ?? 0;
  report.recoveryMsMedian = recoveries[Math.floor(recoveries.length / 2)] ?? 0;
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** Reads every queue and checks it against the acknowledgements so far. */
async function verify(addr: string, queues: number, acked: Ack[]): Promise<CycleReport> {
  const client = new RemotingClient({ timeoutMs: 10_000 });
  const result: CycleReport = {
    cycle: 0,
    acknowledged: acked.length,
    lost: 0,
    duplicated: 0,
    corrupt: 0,
    offsetsAhead: 0,
    recoveryMs: 0,
    killedAfterMs: 0,
  };
  try {
    for (let queueId = 0; queueId < queues; queueId++) {
      const stored = new Map<number, string>();
      const seen = new Set<string>();
      let offset = 0;
      while (true) {
        let page;
        try {
          page = await pull(client, addr, {
            group: "Verifier",
            topic: "Torture",
            queueId,
            queueOffset: offset,
            maxMsgNums: 32,
          });
        } catch {
          result.corrupt++; // a record failing its CRC makes decoding throw
          break;
        }
        if (page.response.code !== ResponseCode.SUCCESS) break;
        for (const m of page.messages) {
          const body = decoder.decode(m.body);
          if (seen.has(body)) result.duplicated++;
          seen.add(body);
          stored.set(m.queueOffset, body);
        }
        offset = Number(page.response.extFields.nextBeginOffset);
      }
      // Queue offsets are contiguous from 0.
      for (let i = 0; i < stored.size; i++) if (!stored.has(i)) result.corrupt++;
      for (const a of acked) if (a.queueId === queueId && stored.get(a.queueOffset) !== a.body) result.lost++;
      const committed = await client.invoke(
        addr,
        createRequest(RequestCode.QUERY_CONSUMER_OFFSET, {
          consumerGroup: "TortureGroup",
          topic: "Torture",
          queueId: String(queueId),
        }),
      );
      if (committed.code === ResponseCode.SUCCESS && Number(committed.extFields.offset) > stored.size) {
        result.offsetsAhead++;
      }
    }
  } finally {
    await client.close();
  }
  return result;
}
