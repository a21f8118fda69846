/**
 * Helpers shared by the store's tests: messages, a seeded PRNG whose seed is printed on failure
 * and replayable through `DENOMQ_SEED`, and a manual clock.
 *
 * @module
 */

import { decodeMessageRecords, type MessageRecord } from "../../protocol/message.ts";
import type { StoreFs } from "./_fs.ts";
import type { Clock, MessageStoreOptions, StoreMessage } from "./store.ts";

/** A deterministic PRNG (mulberry32). */
export class Rng {
  readonly seed: number;
  #state: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6D2B79F5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** The seed for a test: `DENOMQ_SEED` when set, else a random one. */
export function testSeed(): number {
  const fromEnv = Deno.env.get("DENOMQ_SEED");
  return fromEnv !== undefined ? Number(fromEnv) >>> 0 : Math.floor(Math.random() * 2 ** 32);
}

/** Runs `body` with a seeded PRNG; on failure the error names the seed and how to replay it. */
export async function withSeed(name: string, body: (rng: Rng) => Promise<void> | void): Promise<void> {
  const seed = testSeed();
  try {
    await body(new Rng(seed));
  } catch (error) {
    const message = `${name} failed with seed ${seed}; replay with DENOMQ_SEED=${seed}`;
    console.error(message);
    throw new Error(message, { cause: error });
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  ms: number;
  constructor(ms = Date.UTC(2026, 0, 1, 12)) {
    this.ms = ms;
  }
  now(): number {
    return this.ms;
  }
}

const LOCALHOST = new Uint8Array([127, 0, 0, 1]);
const STORE_HOST = { ip: new Uint8Array([10, 0, 0, 7]), port: 10911 };

/** A message with sensible defaults. */
export function message(overrides: Partial<StoreMessage> = {}): StoreMessage {
  return {
    topic: "TopicTest",
    queueId: 0,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: { ip: LOCALHOST, port: 50000 },
    storeHost: STORE_HOST,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: new TextEncoder().encode("hello"),
    properties: "",
    tagsCode: 0,
    keys: [],
    ...overrides,
  };
}

/** A message whose body names it, with UNIQ_KEY and KEYS set and indexed. */
export function numbered(n: number, overrides: Partial<StoreMessage> = {}): StoreMessage {
  const uniq = `UNIQ${String(n).padStart(12, "0")}`;
  return message({
    body: new TextEncoder().encode(`message-${n}`),
    properties: `KEYS\u0001k${n} shared\u0002UNIQ_KEY\u0001${uniq}\u0002TAGS\u0001T${n % 3}`,
    keys: [`k${n}`, "shared", uniq],
    ...overrides,
  });
}

/** Bodies of a records buffer, as strings. */
export function bodies(records: Uint8Array): string[] {
  return decodeMessageRecords(records, { verifyCrc: true }).map((r) => new TextDecoder().decode(r.body));
}

/** Decoded records of a buffer. */
export function decoded(records: Uint8Array): MessageRecord[] {
  return decodeMessageRecords(records, { verifyCrc: true });
}

/** Options for a small file store on `fs` flushed inline: tiny segments, files and index. */
export function smallStoreOptions(
  fs: StoreFs,
  overrides: Partial<MessageStoreOptions> = {},
): MessageStoreOptions {
  return {
    storePathRootDir: "/store",
    fs,
    flushInWorker: false,
    flushDiskType: "SYNC_FLUSH",
    mappedFileSizeCommitLog: 16 * 1024,
    maxMessageSize: 2048,
    writeBufferBytesMax: 64 * 1024,
    mappedFileSizeConsumeQueue: 64,
    maxHashSlotNum: 97,
    maxIndexNum: 200,
    syncFlushTimeout: 2000,
    flushIntervalCommitLog: 20,
    flushIntervalConsumeQueue: 60_000,
    cleanResourceInterval: 60_000,
    ...overrides,
  };
}
