/**
 * Torn and corrupt files: between runs, truncate or flip bits at random points of commit-log,
 * consume-queue, index and checkpoint files. After each change the broker must start, say what
 * it dropped, and serve the rest: every message it returns must be one that was sent, intact
 * (CRC-checked on decode), at a consistent queue offset — a corrupt record is never served.
 *
 * @module
 */

import { RemotingClient } from "../client/remoting_client.ts";
import { ResponseCode } from "../protocol/response_code.ts";
import { type RoleProcess, startRole, tempDir } from "../tests/_process.ts";
import { createTopic, pull, sendV2 } from "../tests/_wire.ts";
import { Random } from "./_random.ts";

const decoder = new TextDecoder();

/** Options of {@linkcode runCorruptTorture}. */
export interface CorruptOptions {
  rounds: number;
  seed: number;
  /** Messages written before the first corruption. */
  messages?: number;
  onRound?: (round: RoundReport) => void;
}

/** One corruption and what the broker made of it. */
export interface RoundReport {
  round: number;
  file: string;
  change: string;
  started: boolean;
  /** The broker logged a warning or an error about what it found (dropped bytes, a corrupt record…). */
  reported: boolean;
  served: number;
  /** Messages served that were never sent or not intact: must be 0. */
  bad: number;
}

/** The whole run. */
export interface CorruptReport {
  seed: number;
  rounds: RoundReport[];
  sent: number;
  corruptionsInjected: number;
  startsFailed: number;
  badServed: number;
  reported: number;
  /** Fewest messages served in a round (the rest of the data stays readable). */
  servedMin: number;
  seconds: number;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(full);
      else if (entry.isFile) out.push(full);
    }
  };
  await walk(dir);
  return out;
}

/** Runs the corruption rounds. */
export async function runCorruptTorture(options: CorruptOptions): Promise<CorruptReport> {
  const random = new Random(options.seed);
  const started = performance.now();
  const dir = await tempDir("corrupt");
  const nameServer = await startRole(["nameserver", "--port", "0"]);
  const namesrv = `127.0.0.1:${nameServer.ready.port}`;
  const settings = [
    "--set",
    "mappedFileSizeCommitLog=262144",
    "--set",
    "maxMessageSize=65536",
    "--set",
    "mappedFileSizeConsumeQueue=2000",
  ];
  const launch = () =>
    startRole(["broker", "--port", "0", "-n", namesrv, "--store", dir.path, ...settings], { timeoutMs: 60_000 });
  const report: CorruptReport = {
    seed: options.seed,
    rounds: [],
    sent: 0,
    corruptionsInjected: 0,
    startsFailed: 0,
    badServed: 0,
    reported: 0,
    servedMin: 0,
    seconds: 0,
  };
  const sent = new Set<string>();
  let broker: RoleProcess | undefined = await launch();
  try {
    const client = new RemotingClient();
    const addr = String(broker.ready.addr);
    await createTopic(client, addr, "Fragile", 4);
    const count = options.messages ?? 2000;
    for (let i = 0; i < count; i++) {
      const body = `intact-${i}-${"x".repeat(random.int(0, 300))}`;
      const r = await sendV2(client, addr, { topic: "Fragile", queueId: i % 4, body, properties: { KEYS: `k${i}` } });
      if (r.code === ResponseCode.SUCCESS) sent.add(body);
    }
    await client.close();
    report.sent = sent.size;
    await broker.stop();
    broker = undefined;

    for (let round = 1; round <= options.rounds; round++) {
      const files = (await listFiles(dir.path)).filter((f) =>
        /\/(commitlog|consumequeue|index)\/|\/checkpoint$/.test(f)
      );
      const file = random.pick(files);
      const bytes = await Deno.readFile(file);
      let change: string;
      if (bytes.length === 0 || random.next() < 0.4) {
        const at = random.int(0, Math.max(0, bytes.length - 1));
        await Deno.truncate(file, at);
        change = `truncated at ${at} of ${bytes.length}`;
      } else {
        const flips = random.int(1, 8);
        const positions: number[] = [];
        for (let i = 0; i < flips; i++) {
          const at = random.int(0, bytes.length - 1);
          bytes[at] ^= 1 << random.int(0, 7);
          positions.push(at);
        }
        await Deno.writeFile(file, bytes);
        change = `flipped bits at ${positions.join(",")} of ${bytes.length}`;
      }
      report.corruptionsInjected++;
      const result: RoundReport = {
        round,
        file: file.slice(dir.path.length + 1),
        change,
        started: false,
        reported: false,
        served: 0,
        bad: 0,
      };
      try {
        broker = await launch();
        result.started = true;
      } catch {
        report.startsFailed++;
      }
      if (broker) {
        const reader = new RemotingClient();
        for (let queueId = 0; queueId < 4; queueId++) {
          let offset = 0;
          for (let pages = 0; pages < 1000; pages++) {
            let page;
            try {
              page = await pull(reader, String(broker.ready.addr), {
                group: `Reader${round}`,
                topic: "Fragile",
                queueId,
                queueOffset: offset,
                maxMsgNums: 32,
              });
            } catch {
              result.bad++; // a served record failed its CRC
              break;
            }
            const code = page.response.code;
            if (code === ResponseCode.SUCCESS) {
              for (const m of page.messages) {
                result.served++;
                if (!sent.has(decoder.decode(m.body)) || m.queueId !== queueId) result.bad++;
              }
            } else if (code !== ResponseCode.PULL_RETRY_IMMEDIATELY && code !== ResponseCode.PULL_OFFSET_MOVED) break;
            const next = Number(page.response.extFields.nextBeginOffset);
            if (!(next > offset)) break;
            offset = next;
          }
        }
        await reader.close();
        result.reported = /"level":"(WARNING|ERROR)"/.test(broker.stderr());
        await broker.stop();
        broker = undefined;
      }
      if (result.reported) report.reported++;
      report.badServed += result.bad;
      report.rounds.push(result);
      options.onRound?.(result);
    }
  } finally {
    await broker?.stop();
    await nameServer.stop();
    await dir.remove();
  }
  report.servedMin = Math.min(...report.rounds.map((r) => r.served));
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
