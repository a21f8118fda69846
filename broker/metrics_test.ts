import assert from "node:assert/strict";
import { parsePrometheusText } from "../tests/_prometheus.ts";
import { BrokerMetrics } from "./metrics.ts";
import type { BrokerServices } from "./processors/context.ts";
import { BrokerStats } from "./stats.ts";
import type { StoreRuntimeInfo } from "./store/store.ts";

function fakeServices(info: StoreRuntimeInfo): BrokerServices {
  return {
    config: { brokerName: "b", brokerClusterName: "c" },
    stats: new BrokerStats(),
    now: () => 0,
    store: { runtimeInfo: () => info },
    topics: { all: () => [][Symbol.iterator]() },
    consumers: { groups: () => [][Symbol.iterator]() },
  } as unknown as BrokerServices;
}

Deno.test("BrokerMetrics.sample() times writes until their fdatasync and counts fences once", async () => {
  const info = {
    commitLogMinOffset: 0,
    commitLogMaxOffset: 0,
    commitLogFlushedOffset: 0,
    commitLogWrittenOffset: 0,
    diskUsedRatio: 0.5,
    fenced: false,
    fenceReason: "",
    diskFull: false,
    putMessageCount: 0,
    putMessageBytes: 0,
    pageCacheBusyCount: 0,
    flushDiskTimeoutCount: 0,
    commitLogSyncCount: 0,
    writeBufferBytes: 0,
    consumeQueueCount: 0,
  } as StoreRuntimeInfo;
  const metrics = new BrokerMetrics(fakeServices(info), []);
  metrics.sample(0); // baseline
  info.commitLogWrittenOffset = 100;
  metrics.sample(20); // written, not synced: timed from here
  info.commitLogWrittenOffset = 200;
  metrics.sample(40);
  info.commitLogFlushedOffset = 200;
  metrics.sample(540); // both synced: 520 ms and 500 ms
  info.commitLogWrittenOffset = 300;
  info.commitLogFlushedOffset = 300;
  metrics.sample(560); // synced within one sample: 0
  info.fenced = true;
  metrics.sample(580);
  metrics.sample(600);
  const families = parsePrometheusText(await metrics.render());
  const buckets = families.get("denomq_store_flush_wait_seconds")!.samples;
  const bucket = (le: string) => buckets.find((s) => s.labels.le === le)!.value;
  assert.equal(bucket("0.005"), 1);
  assert.equal(bucket("0.25"), 1);
  assert.equal(bucket("0.5"), 2);
  assert.equal(bucket("1"), 3);
  assert.equal(families.get("denomq_store_fsync_errors_total")!.samples[0].value, 1);
  assert.equal(families.get("denomq_store_fenced")!.samples[0].value, 1);
});
