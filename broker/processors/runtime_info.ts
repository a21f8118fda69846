/**
 * GET_BROKER_RUNTIME_INFO (28): the KVTable `mqadmin clusterList` and `brokerStatus` (and
 * dashboards) read. Keys and value forms are RocketMQ 4.9.7's: rates as "10s 1min 10min"
 * per-second averages, totals, lane queue sizes and capacities, store offsets and disk use.
 * Keys for things denomq does not have (transaction lane, put latency histograms) are left out
 * rather than faked; a few denomq-only store keys are added (`store…`).
 *
 * @module
 */

import { statfsSync } from "node:fs";
import { encodeJsonBody, kvTableJson } from "../../protocol/bodies.ts";
import { createResponse, CURRENT_VERSION, type RemotingCommand } from "../../protocol/command.ts";
import { ResponseCode } from "../../protocol/response_code.ts";
import type { RateCounter } from "../stats.ts";
import { humanReadableBytes, javaDouble, mqVersionDesc } from "./_admin_util.ts";
import type { BrokerServices } from "./context.ts";

/** RocketMQ's three TPS windows: 10 s, 1 min, 10 min, written "a b c". */
function tps(counter: RateCounter, nowMs: number): string {
  return [10, 60, 600].map((seconds) => javaDouble(counter.rate(seconds, nowMs))).join(" ");
}

/** `[ 0 days, 0 hours, 14 minutes, 12 seconds ]`, as RocketMQ's `runtime` key. */
function formatRuntime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `[ ${days} days, ${hours} hours, ${minutes} minutes, ${seconds % 60} seconds ]`;
}

/** Space of the store root's file system, or undefined when it cannot be read. */
function diskSpace(path: string): { totalBytes: number; freeBytes: number; usableBytes: number } | undefined {
  try {
    const fs = statfsSync(path);
    return { totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bfree * fs.bsize, usableBytes: fs.bavail * fs.bsize };
  } catch {
    return undefined; // no `--allow-sys=statfs`, or no such directory
  }
}

/** `UtilAll.getDiskPartitionSpaceUsedPercent`: used / (used + usable), rounded up to a percent. */
function usedRatio(space: { totalBytes: number; freeBytes: number; usableBytes: number }): number {
  const used = space.totalBytes - space.freeBytes;
  const entire = used + space.usableBytes;
  return entire > 0 ? Math.ceil((used * 100) / entire) / 100 : -1;
}

/** Queue length, capacity and head wait of one lane, summed over the main and VIP ports. */
function laneInfo(s: BrokerServices, name: string, nowMs: number): { size: number; capacity: number; waitMs: number } {
  let size = 0;
  let capacity = 0;
  let waitMs = 0;
  for (const lanes of s.laneSets) {
    const lane = lanes.get(name);
    if (!lane) continue;
    size += lane.stats.queued;
    capacity = Math.max(capacity, lane.queueLengthMax);
    waitMs = Math.max(waitMs, lane.headWaitMs(nowMs));
  }
  return { size, capacity, waitMs };
}

/** The runtime-info table. */
export async function brokerRuntimeInfo(s: BrokerServices): Promise<Map<string, string>> {
  const now = s.now();
  const info = s.store.runtimeInfo();
  const stats = s.stats;
  const daily = stats.dailyTotals(now);
  const table = new Map<string, string>();
  table.set("brokerVersionDesc", mqVersionDesc(CURRENT_VERSION));
  table.set("brokerVersion", String(CURRENT_VERSION));
  table.set("bootTimestamp", String(stats.startedAtMs));
  table.set("runtime", formatRuntime(now - stats.startedAtMs));

  table.set("msgPutTotalYesterdayMorning", String(daily.putYesterdayMorning));
  table.set("msgPutTotalTodayMorning", String(daily.putTodayMorning));
  table.set("msgPutTotalTodayNow", String(stats.putMessages.total));
  table.set("msgGetTotalYesterdayMorning", String(daily.getYesterdayMorning));
  table.set("msgGetTotalTodayMorning", String(daily.getTodayMorning));
  table.set("msgGetTotalTodayNow", String(stats.getMessages.total));
  table.set("putTps", tps(stats.putMessages, now));
  table.set("getTransferedTps", tps(stats.getMessages, now));
  table.set("getFoundTps", tps(stats.getFound, now));

  for (const [key, lane] of [["send", "send"], ["pull", "pull"], ["query", "query"]] as const) {
    const { size, capacity, waitMs } = laneInfo(s, lane, now);
    table.set(`${key}ThreadPoolQueueSize`, String(size));
    table.set(`${key}ThreadPoolQueueCapacity`, String(capacity));
    table.set(`${key}ThreadPoolQueueHeadWaitTimeMills`, String(waitMs));
  }
  // The store never holds a lock over the page cache while appending; puts wait on the bounded
  // write buffer instead (counted in storePageCacheBusyCount).
  table.set("pageCacheLockTimeMills", "0");
  table.set("earliestMessageTimeStamp", String(await s.store.earliestMessageStoreTime()));
  table.set("startAcceptSendRequestTimeStamp", String(s.config.startAcceptSendRequestTimeStamp));

  table.set("commitLogMinOffset", String(info.commitLogMinOffset));
  table.set("commitLogMaxOffset", String(info.commitLogMaxOffset));
  table.set("remainHowManyDataToFlush", humanReadableBytes(info.commitLogMaxOffset - info.commitLogFlushedOffset));
  const space = diskSpace(s.config.storePathRootDir);
  const ratio = space ? usedRatio(space) : info.diskUsedRatio >= 0 ? Math.ceil(info.diskUsedRatio * 100) / 100 : -1;
  const diskRatio = javaDouble(ratio);
  table.set("commitLogDiskRatio", diskRatio);
  table.set("consumeQueueDiskRatio", diskRatio);
  if (space) {
    table.set(
      "commitLogDirCapacity",
      `Total : ${humanReadableBytes(space.totalBytes)}, Free : ${humanReadableBytes(space.usableBytes)}.`,
    );
  }
  table.set("putMessageTimesTotal", String(info.putMessageCount));
  table.set("putMessageSizeTotal", String(info.putMessageBytes));
  table.set(
    "putMessageAverageSize",
    javaDouble(info.putMessageCount > 0 ? info.putMessageBytes / info.putMessageCount : 0),
  );
  table.set("putMessageFailedTimes", String(stats.rejectedSends.total));

  table.set("storeFenced", String(info.fenced));
  if (info.fenced) table.set("storeFenceReason", info.fenceReason);
  table.set("storeDiskFull", String(info.diskFull));
  table.set("storeWriteBufferBytes", String(info.writeBufferBytes));
  table.set("storePageCacheBusyCount", String(info.pageCacheBusyCount));
  table.set("storeFlushDiskTimeoutCount", String(info.flushDiskTimeoutCount));
  return table;
}

/** Handles GET_BROKER_RUNTIME_INFO. */
export async function handleGetBrokerRuntimeInfo(
  request: RemotingCommand,
  s: BrokerServices,
): Promise<RemotingCommand> {
  const table = await brokerRuntimeInfo(s);
  return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(kvTableJson(table)) });
}
