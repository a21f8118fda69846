/**
 * Crash-test appender: opens a store in SYNC_FLUSH with its flush Worker and appends from
 * `concurrency` concurrent producers until killed, printing `ack <n> <queueId> <queueOffset>` for
 * every put acknowledged PUT_OK. Used by `crash_test.ts`, which `kill -9`s it mid-load.
 *
 * Usage: deno run -A appender.ts <storeDir> <firstN> [concurrency]
 *
 * @module
 */

import { FileMessageStore } from "../file_store.ts";
import { PutMessageStatus } from "../store.ts";

const [dir, firstArg, concurrencyArg] = Deno.args;
const store = await FileMessageStore.open({
  storePathRootDir: dir,
  flushDiskType: "SYNC_FLUSH",
  mappedFileSizeCommitLog: 256 * 1024,
  maxMessageSize: 16 * 1024,
  writeBufferBytesMax: 1024 * 1024,
  mappedFileSizeConsumeQueue: 1000,
  maxHashSlotNum: 1021,
  maxIndexNum: 4000,
  flushIntervalConsumeQueue: 50,
});
const encoder = new TextEncoder();
const out = (line: string) => {
  const bytes = encoder.encode(line + "\n");
  let done = 0;
  while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
};
out(`ready ${JSON.stringify(store.recovery)}`);
let n = Number(firstArg);
const host = { ip: new Uint8Array([127, 0, 0, 1]), port: 1 };
async function producer(): Promise<void> {
  for (;;) {
    const i = n++;
    const queueId = i % 4;
    const body = encoder.encode(`msg-${i}-` + "p".repeat((i * 7919) % 3000));
    const result = await store.putMessage({
      topic: "CrashTopic",
      queueId,
      flag: 0,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      bornHost: host,
      storeHost: host,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body,
      properties: `UNIQ_KEY\u0001CRASH${i}`,
      tagsCode: 0,
      keys: [`CRASH${i}`],
    });
    if (result.status === PutMessageStatus.PUT_OK) out(`ack ${i} ${queueId} ${result.queueOffset}`);
  }
}
await Promise.all(Array.from({ length: Number(concurrencyArg ?? 32) }, producer));
