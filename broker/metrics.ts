/**
 * The broker's Prometheus metrics, read from its services: puts and gets per topic (messages and
 * bytes), consumer lag per queue in messages and seconds, retry and DLQ counts, commit-log size,
 * how long written bytes wait for their fdatasync (a histogram) and store write/fsync failures,
 * connections, and requests refused by reason.
 *
 * The store reports offsets, not timings, so the flush histogram comes from a sampler: every
 * {@linkcode FLUSH_SAMPLE_INTERVAL_MS} it notes the commit log's written offset and observes,
 * once the flushed offset passes it, how long that took. Lag series are bounded (at most
 * {@linkcode LAG_SERIES_MAX} queues, {@linkcode LAG_SECONDS_READS_MAX} store reads per scrape).
 *
 * @module
 */

import { MetricsWriter } from "../http/prometheus.ts";
import { Histogram, type Labels } from "../http/prometheus.ts";
import { CURRENT_VERSION } from "../protocol/command.ts";
import { RECORD_OVERHEAD_BYTES, RecordField, storeTimestampPosition } from "../protocol/message.ts";
import type { RemotingServer } from "../remoting/server.ts";
import type { BrokerServices } from "./processors/context.ts";
import type { CounterTable } from "./stats.ts";

/** How often the flush sampler looks at the commit log's offsets. */
export const FLUSH_SAMPLE_INTERVAL_MS = 20;
/** Unflushed marks the sampler holds; past it the oldest are dropped (a stalled disk). */
const FLUSH_MARKS_MAX = 10_000;
/** Queues whose lag is exported per scrape: bounds the document for 1,000 topics × many groups. */
export const LAG_SERIES_MAX = 10_000;
/** Store reads for lag in seconds per scrape (one record header each). */
export const LAG_SECONDS_READS_MAX = 2_000;
/** Flush wait buckets, seconds: SYNC_FLUSH sits in the first ones, ASYNC_FLUSH near its interval. */
const FLUSH_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One port's server, labelled. */
export interface LabelledServer {
  port: string;
  server: RemotingServer;
}

/** Metrics of one broker. */
export class BrokerMetrics {
  readonly #s: BrokerServices;
  readonly #servers: LabelledServer[];
  readonly #flushWait = new Histogram(FLUSH_BUCKETS_S);
  readonly #marks: { offset: number; atMs: number }[] = [];
  #fenceEvents = 0;
  #lastWritten = -1;
  #wasFenced = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(services: BrokerServices, servers: LabelledServer[]) {
    this.#s = services;
    this.#servers = servers;
  }

  /** Starts the flush sampler. */
  start(): void {
    this.#timer ??= setInterval(() => this.sample(performance.now()), FLUSH_SAMPLE_INTERVAL_MS);
  }

  /** Stops the flush sampler. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One sampler step (tests call it with their own clock). */
  sample(nowMs: number): void {
    const info = this.#s.store.runtimeInfo();
    if (info.fenced && !this.#wasFenced) this.#fenceEvents++;
    this.#wasFenced = info.fenced;
    while (this.#marks.length > 0 && this.#marks[0].offset <= info.commitLogFlushedOffset) {
      this.#flushWait.observe((nowMs - this.#marks.shift()!.atMs) / 1000);
    }
    if (this.#lastWritten < 0) {
      this.#lastWritten = info.commitLogWrittenOffset; // the first sample only sets the baseline
      return;
    }
    if (info.commitLogWrittenOffset > this.#lastWritten) {
      // Bytes written since the last sample and already synced took less than one sample interval:
      // observed as 0. Unsynced ones are timed from this sample until a later one sees them synced.
      if (info.commitLogFlushedOffset >= info.commitLogWrittenOffset) this.#flushWait.observe(0);
      else {
        this.#marks.push({ offset: info.commitLogWrittenOffset, atMs: nowMs });
        if (this.#marks.length > FLUSH_MARKS_MAX) this.#marks.shift();
      }
    }
    this.#lastWritten = Math.max(this.#lastWritten, info.commitLogWrittenOffset);
  }

  /** The exposition document. */
  async render(): Promise<string> {
    const s = this.#s;
    const now = s.now();
    const broker = { broker: s.config.brokerName, cluster: s.config.brokerClusterName };
    const w = new MetricsWriter();
    w.gauge("denomq_up", "1 while the role serves", [[{ role: "broker", ...broker }, 1]]);
    w.gauge("denomq_build_info", "Protocol version served (MQVersion ordinal)", [[{ version: CURRENT_VERSION }, 1]]);
    w.gauge("denomq_start_time_seconds", "When the broker started", [[broker, s.stats.startedAtMs / 1000]]);

    const totals = (table: CounterTable) => [...table.entries()].sort((a, b) => a[0].localeCompare(b[0]));
    w.counter(
      "denomq_topic_put_messages_total",
      "Messages stored per topic",
      totals(s.stats.putByTopic).map(([topic, c]) => [{ topic }, c.total]),
    );
    w.counter(
      "denomq_topic_put_bytes_total",
      "Record bytes stored per topic",
      totals(s.stats.putBytesByTopic).map(([topic, c]) => [{ topic }, c.total]),
    );
    const split = (key: string): Labels => {
      const at = key.lastIndexOf("@");
      return at < 0 ? { topic: key, group: "" } : { topic: key.slice(0, at), group: key.slice(at + 1) };
    };
    w.counter(
      "denomq_topic_get_messages_total",
      "Messages pulled per topic and consumer group",
      totals(s.stats.getByTopicGroup).map(([key, c]) => [split(key), c.total]),
    );
    w.counter(
      "denomq_topic_get_bytes_total",
      "Record bytes pulled per topic and consumer group",
      totals(s.stats.getBytesByTopicGroup).map(([key, c]) => [split(key), c.total]),
    );
    w.counter("denomq_retry_messages_total", "Messages sent back for a retry (to %RETRY% topics)", [[
      broker,
      s.stats.sendBackToRetry.total,
    ]]);
    w.counter("denomq_dlq_messages_total", "Messages moved to a dead-letter queue (%DLQ% topics)", [[
      broker,
      s.stats.sendBackToDlq.total,
    ]]);

    await this.#lag(w, now);

    const info = s.store.runtimeInfo();
    w.gauge("denomq_commitlog_size_bytes", "Commit-log bytes retained (max - min offset)", [[
      broker,
      info.commitLogMaxOffset - info.commitLogMinOffset,
    ]]);
    w.gauge("denomq_commitlog_max_offset_bytes", "Commit-log end offset", [[broker, info.commitLogMaxOffset]]);
    w.gauge("denomq_commitlog_unflushed_bytes", "Bytes written but not yet covered by an fdatasync", [[
      broker,
      Math.max(0, info.commitLogWrittenOffset - info.commitLogFlushedOffset),
    ]]);
    w.gauge("denomq_store_disk_used_ratio", "Used fraction of the store's disk (-1 unknown)", [[
      broker,
      info.diskUsedRatio,
    ]]);
    w.gauge("denomq_store_fenced", "1 when a write or fdatasync failed and puts are refused until a restart", [[
      broker,
      info.fenced ? 1 : 0,
    ]]);
    w.counter(
      "denomq_store_fsync_errors_total",
      "Commit-log write or fdatasync failures seen (each fences the store)",
      [[broker, this.#fenceEvents]],
    );
    w.gauge("denomq_store_disk_full", "1 when puts are refused for disk space", [[broker, info.diskFull ? 1 : 0]]);
    w.counter("denomq_store_fsyncs_total", "fdatasync calls for the commit log", [[broker, info.commitLogSyncCount]]);
    w.counter("denomq_store_flush_timeouts_total", "SYNC_FLUSH puts not covered by an fsync in time", [[
      broker,
      info.flushDiskTimeoutCount,
    ]]);
    w.histogram(
      "denomq_store_flush_wait_seconds",
      `Time from a commit-log write to the fdatasync covering it (sampled every ${FLUSH_SAMPLE_INTERVAL_MS} ms; 0: within one sample)`,
      [[broker, this.#flushWait.data()]],
    );
    w.gauge("denomq_store_write_buffer_bytes", "Bytes waiting in the store's bounded write buffer", [[
      broker,
      info.writeBufferBytes,
    ]]);

    w.gauge(
      "denomq_connections",
      "Open client connections per port",
      this.#servers.map(({ port, server }) => [{ ...broker, port }, server.connections.size]),
    );
    w.counter(
      "denomq_connections_accepted_total",
      "Client connections accepted per port",
      this.#servers.map(({ port, server }) => [{ ...broker, port }, server.stats.connectionsAccepted]),
    );
    w.gauge(
      "denomq_consumer_clients",
      "Client connections per consumer group",
      [...s.consumers.groups()].map((g) => [
        { group: g.groupName },
        g.channels.size,
      ]),
    );
    const refused: [Labels, number][] = [];
    for (const { port, server } of this.#servers) {
      const st = server.stats;
      for (const [lane, l] of server.lanes) refused.push([{ port, reason: "lane_full", lane }, l.stats.rejected]);
      refused.push([{ port, reason: "unsupported_code", lane: "" }, st.unsupportedCodes]);
      refused.push([{ port, reason: "bad_frame", lane: "" }, st.framingErrors]);
      refused.push([{ port, reason: "handler_error", lane: "" }, st.handlerErrors]);
      refused.push([{ port, reason: "slow_consumer", lane: "" }, st.slowConsumerDisconnects]);
      refused.push([{ port, reason: "idle", lane: "" }, st.idleDisconnects]);
    }
    refused.push([{ port: "", reason: "store_refused_put", lane: "send" }, s.stats.rejectedSends.total]);
    w.counter("denomq_rejected_requests_total", "Requests refused or connections dropped, by reason", refused);
    w.gauge(
      "denomq_lane_queued_requests",
      "Requests waiting in each lane",
      this.#servers.flatMap(({ port, server }) =>
        [...server.lanes].map(([lane, l]): [Labels, number] => [{ port, lane }, l.stats.queued])
      ),
    );
    return w.toString();
  }

  /** Per-queue lag of every group with committed offsets, bounded. */
  async #lag(w: MetricsWriter, now: number): Promise<void> {
    const s = this.#s;
    const messages: [Labels, number][] = [];
    const seconds: [Labels, number][] = [];
    const byGroupTopic = new Map<string, { labels: Labels; lag: number; seconds: number }>();
    let reads = 0;
    let truncated = false;
    const topics = [...s.topics.all()].map((t) => t.topicName).sort();
    outer: for (const topic of topics) {
      for (const group of s.offsets.groupsOfTopic(topic).sort()) {
        for (const [queueId, committed] of [...s.offsets.queueOffsets(group, topic)].sort((a, b) => a[0] - b[0])) {
          if (messages.length >= LAG_SERIES_MAX) {
            truncated = true;
            break outer;
          }
          const labels = { group, topic, queue: queueId };
          const lag = Math.max(0, s.store.maxQueueOffset(topic, queueId) - committed);
          messages.push([labels, lag]);
          let lagSeconds = 0;
          if (lag > 0 && reads < LAG_SECONDS_READS_MAX) {
            reads++;
            const stored = await storeTimeAt(s, topic, queueId, committed);
            if (stored > 0) lagSeconds = Math.max(0, (now - stored) / 1000);
          }
          seconds.push([labels, lagSeconds]);
          const key = `${group}\0${topic}`;
          const sum = byGroupTopic.get(key) ?? { labels: { group, topic }, lag: 0, seconds: 0 };
          sum.lag += lag;
          sum.seconds = Math.max(sum.seconds, lagSeconds);
          byGroupTopic.set(key, sum);
        }
      }
    }
    w.gauge("denomq_consumer_lag_messages", "Messages behind per consumer group and queue", messages);
    w.gauge("denomq_consumer_lag_seconds", "Age of the oldest unconsumed message per group and queue", seconds);
    w.gauge(
      "denomq_consumer_group_lag_messages",
      "Messages behind per consumer group and topic",
      [...byGroupTopic.values()].map((v) => [v.labels, v.lag]),
    );
    w.gauge(
      "denomq_consumer_group_lag_seconds",
      "Largest queue lag in seconds per consumer group and topic",
      [...byGroupTopic.values()].map((v) => [v.labels, v.seconds]),
    );
    w.gauge("denomq_metrics_lag_truncated", `1 when more than ${LAG_SERIES_MAX} queues have lag series`, [[
      undefined,
      truncated ? 1 : 0,
    ]]);
  }
}

/** Store time of the message at a queue offset, or -1. */
async function storeTimeAt(s: BrokerServices, topic: string, queueId: number, queueOffset: number): Promise<number> {
  const [unit] = s.store.getQueueUnits(topic, queueId, queueOffset, 1);
  if (!unit || unit.queueOffset !== queueOffset) return -1;
  const record = await s.store.readRecord(unit.commitLogOffset);
  if (!record || record.length < RECORD_OVERHEAD_BYTES) return -1;
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const at = storeTimestampPosition(view.getInt32(RecordField.SYS_FLAG));
  return at + 8 <= record.length ? Number(view.getBigInt64(at)) : -1;
}
