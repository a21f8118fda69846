/**
 * The crash test: a real `deno run` process appends in SYNC_FLUSH (flush Worker, real
 * disk) and prints every acknowledgement; it is `kill -9`ed mid-load, twice, and the store is
 * reopened: every acknowledged record must be there, intact, in order.
 */

import assert from "node:assert/strict";
import { decodeMessageRecords } from "../../protocol/message.ts";
import { FileMessageStore } from "./file_store.ts";
import { GetMessageStatus } from "./store.ts";
import { type Rng, withSeed } from "./_test_util.ts";

const appender = new URL("./testdata/appender.ts", import.meta.url).pathname;

interface Ack {
  n: number;
  queueId: number;
  queueOffset: number;
}

/** Runs the appender until `acksWanted` acknowledgements, then SIGKILLs it. */
async function appendThenKill(dir: string, firstN: number, acksWanted: number): Promise<Ack[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", appender, dir, String(firstN), "32"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const acks: Ack[] = [];
  const decoder = new TextDecoder();
  let pending = "";
  const deadline = Date.now() + 60_000;
  const reader = child.stdout.getReader();
  try {
    while (acks.length < acksWanted && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, n, queueId, queueOffset] = line.split(" ");
        if (kind === "ack") acks.push({ n: Number(n), queueId: Number(queueId), queueOffset: Number(queueOffset) });
      }
    }
    child.kill("SIGKILL");
    // Acks already printed before the kill count too: drain what the pipe still holds.
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
    }
    for (const line of pending.split("\n")) {
      const [kind, n, queueId, queueOffset] = line.split(" ");
      if (kind === "ack" && queueOffset !== undefined && queueOffset !== "") {
        acks.push({ n: Number(n), queueId: Number(queueId), queueOffset: Number(queueOffset) });
      }
    }
  } finally {
    reader.releaseLock();
  }
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", "the appender was killed mid-load, not finished");
  assert.ok(acks.length >= acksWanted, `only ${acks.length} acks before the deadline`);
  return acks;
}

Deno.test("kill -9 mid-load: every acknowledged SYNC_FLUSH record survives, intact and in order", async () => {
  await withSeed("kill -9", async (rng) => {
    const dir = await Deno.makeTempDir({ prefix: "denomq-crash-" });
    try {
      await killTwiceAndVerify(dir, rng);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

/** The seed picks how many acks each run gets before its kill (the kill's timing is the OS's). */
async function killTwiceAndVerify(dir: string, rng: Rng): Promise<void> {
  const acks = [
    ...await appendThenKill(dir, 0, 2000 + rng.int(8000)),
    ...await appendThenKill(dir, 1_000_000, 2000 + rng.int(8000)),
  ];
  const store = await FileMessageStore.open({
    storePathRootDir: dir,
    mappedFileSizeCommitLog: 256 * 1024,
    maxMessageSize: 16 * 1024,
    mappedFileSizeConsumeQueue: 1000,
    maxHashSlotNum: 1021,
    maxIndexNum: 4000,
  });
  try {
    assert.equal(store.recovery.abnormal, true);
    const stored = new Map<string, number>();
    for (let queueId = 0; queueId < 4; queueId++) {
      let offset = store.minQueueOffset("CrashTopic", queueId);
      let expectedQueueOffset = offset;
      let previous = -1;
      for (;;) {
        const r = await store.getMessages("CrashTopic", queueId, offset, { maxCount: 1000, maxBytes: 1 << 24 });
        if (r.status !== GetMessageStatus.FOUND) break;
        for (const record of decodeMessageRecords(r.records, { verifyCrc: true })) {
          const n = Number(new TextDecoder().decode(record.body).split("-")[1]);
          assert.ok(n > previous, `queue ${queueId} is in put order at ${record.queueOffset}`);
          assert.equal(record.queueOffset, expectedQueueOffset++, `queue ${queueId} has no gaps`);
          assert.equal(record.body.length, `msg-${n}-`.length + (n * 7919) % 3000);
          previous = n;
          stored.set(`${queueId}/${record.queueOffset}`, n);
        }
        offset = r.nextBeginOffset;
      }
      assert.equal(offset, store.maxQueueOffset("CrashTopic", queueId));
    }
    for (const ack of acks) {
      assert.equal(stored.get(`${ack.queueId}/${ack.queueOffset}`), ack.n, `acknowledged msg-${ack.n} is intact`);
    }
    const last = acks.at(-1)!;
    const byKey = await store.queryByKey("CrashTopic", `CRASH${last.n}`, { maxCount: 1, beginMs: 0, endMs: 8.64e15 });
    assert.equal(byKey.records.length, 1);
    assert.deepEqual(store.verifyCommitLog().corrupt, []);
  } finally {
    await store.close();
  }
}
