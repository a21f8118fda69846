/**
 * Broker counters for runtime info (GET_BROKER_RUNTIME_INFO), consume stats and metrics: puts
 * and gets per topic and group, with sliding-window rates.
 *
 * @module
 */

/** Seconds of history kept for rates (10 min, RocketMQ's longest TPS window). */
const WINDOW_SECONDS = 600;

/** What a stats window holds (RocketMQ `StatsSnapshot`, as VIEW_BROKER_STATS_DATA reports it). */
export interface WindowSnapshot {
  /** Sum of the values added in the window. */
  sum: number;
  /** Sum per second over the window. */
  tps: number;
  /** Average value per add (RocketMQ's "avgpt"); 0 when nothing was added. */
  avgpt: number;
}

/** Sums and add counts in fixed-width time buckets, a ring of `count` of them. */
class BucketRing {
  readonly #widthMs: number;
  readonly #sums: Float64Array;
  readonly #times: Float64Array;
  #last = -1;

  constructor(widthMs: number, count: number) {
    this.#widthMs = widthMs;
    this.#sums = new Float64Array(count);
    this.#times = new Float64Array(count);
  }

  add(n: number, nowMs: number): void {
    const i = this.#advance(nowMs) % this.#sums.length;
    this.#sums[i] += n;
    this.#times[i] += 1;
  }

  /** Sum and add count over the current bucket and the `count - 1` before it. */
  total(count: number, nowMs: number): { sum: number; times: number } {
    const now = this.#advance(nowMs);
    const size = this.#sums.length;
    let sum = 0;
    let times = 0;
    for (let i = 0; i < Math.min(count, size); i++) {
      const slot = (now - i + size * 2) % size;
      sum += this.#sums[slot];
      times += this.#times[slot];
    }
    return { sum, times };
  }

  #advance(nowMs: number): number {
    const bucket = Math.floor(nowMs / this.#widthMs);
    if (this.#last < 0) this.#last = bucket;
    if (bucket > this.#last) {
      const size = this.#sums.length;
      const steps = Math.min(bucket - this.#last, size);
      for (let i = 1; i <= steps; i++) {
        this.#sums[(this.#last + i) % size] = 0;
        this.#times[(this.#last + i) % size] = 0;
      }
      this.#last = bucket;
    }
    return this.#last;
  }
}

/**
 * A counter with per-second buckets for rates over the last 10 s, 1 min and 10 min, plus
 * per-minute and per-hour buckets for the hour and day windows of VIEW_BROKER_STATS_DATA.
 */
export class RateCounter {
  total = 0;
  readonly #buckets = new Float64Array(WINDOW_SECONDS);
  #lastSecond = 0;
  readonly #minutes = new BucketRing(60_000, 60);
  readonly #hours = new BucketRing(3_600_000, 24);

  add(n: number, nowMs: number): void {
    this.#advance(nowMs);
    this.total += n;
    this.#buckets[this.#lastSecond % WINDOW_SECONDS] += n;
    this.#minutes.add(n, nowMs);
    this.#hours.add(n, nowMs);
  }

  /**
   * The last minute, hour or day (RocketMQ `StatsItem.getStatsDataInMinute/Hour/Day`), the
   * current second, minute or hour included. The minute's sum comes from seconds; its average
   * per add, and the hour and day, from minutes and hours.
   */
  window(span: "minute" | "hour" | "day", nowMs: number): WindowSnapshot {
    if (span === "minute") {
      this.#advance(nowMs);
      let sum = 0;
      for (let i = 0; i < 60; i++) sum += this.#buckets[(this.#lastSecond - i + WINDOW_SECONDS) % WINDOW_SECONDS];
      const recent = this.#minutes.total(2, nowMs);
      return { sum, tps: sum / 60, avgpt: recent.times > 0 ? recent.sum / recent.times : 0 };
    }
    const { sum, times } = span === "hour" ? this.#minutes.total(60, nowMs) : this.#hours.total(24, nowMs);
    return { sum, tps: sum / (span === "hour" ? 3600 : 86_400), avgpt: times > 0 ? sum / times : 0 };
  }

  /** Average per second over the last `seconds` full seconds. */
  rate(seconds: number, nowMs: number): number {
    this.#advance(nowMs);
    let sum = 0;
    for (let i = 1; i <= seconds; i++) {
      sum += this.#buckets[(this.#lastSecond - i + WINDOW_SECONDS * 2) % WINDOW_SECONDS];
    }
    return sum / seconds;
  }

  #advance(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (this.#lastSecond === 0) this.#lastSecond = second;
    if (second <= this.#lastSecond) return;
    const steps = Math.min(second - this.#lastSecond, WINDOW_SECONDS);
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#lastSecond + i) % WINDOW_SECONDS] = 0;
    this.#lastSecond = second;
  }
}

/** Distinct topics or groups tracked; past this, new names share one "other" entry. */
const NAMES_MAX = 10_000;

/** Counters keyed by name, bounded. */
export class CounterTable {
  readonly #table = new Map<string, RateCounter>();

  get(name: string): RateCounter {
    let counter = this.#table.get(name);
    if (!counter) {
      if (this.#table.size >= NAMES_MAX) name = "(other)";
      counter = this.#table.get(name) ?? new RateCounter();
      this.#table.set(name, counter);
    }
    return counter;
  }

  /** The counter of `name`, without creating one. */
  find(name: string): RateCounter | undefined {
    return this.#table.get(name);
  }

  entries(): IterableIterator<[string, RateCounter]> {
    return this.#table.entries();
  }
}

/** Message totals at the last two local midnights (RocketMQ `BrokerStats`). */
export interface DailyTotals {
  putYesterdayMorning: number;
  putTodayMorning: number;
  getYesterdayMorning: number;
  getTodayMorning: number;
}

/** The next local midnight after `nowMs`. */
function nextMidnightMs(nowMs: number): number {
  const d = new Date(nowMs);
  d.setHours(24, 0, 0, 0);
  return d.getTime();
}

/** All broker counters. */
export class BrokerStats {
  readonly startedAtMs = Date.now();
  #nextMidnightMs = nextMidnightMs(this.startedAtMs);
  #daily: DailyTotals = { putYesterdayMorning: 0, putTodayMorning: 0, getYesterdayMorning: 0, getTodayMorning: 0 };
  /** Pulls that found messages (RocketMQ's getFoundTps counts these). */
  readonly getFound = new RateCounter();
  readonly putMessages = new RateCounter();
  readonly putBytes = new RateCounter();
  readonly getMessages = new RateCounter();
  readonly getBytes = new RateCounter();
  readonly putByTopic = new CounterTable();
  readonly putBytesByTopic = new CounterTable();
  /** Keyed `topic@group`. */
  readonly getByTopicGroup = new CounterTable();
  readonly getBytesByTopicGroup = new CounterTable();
  readonly sendBackToRetry = new RateCounter();
  readonly sendBackToDlq = new RateCounter();
  readonly rejectedSends = new RateCounter();

  recordPut(topic: string, count: number, bytes: number, nowMs: number): void {
    this.#rollDay(nowMs);
    this.putMessages.add(count, nowMs);
    this.putBytes.add(bytes, nowMs);
    this.putByTopic.get(topic).add(count, nowMs);
    this.putBytesByTopic.get(topic).add(bytes, nowMs);
  }

  recordGet(topic: string, group: string, count: number, bytes: number, nowMs: number): void {
    this.#rollDay(nowMs);
    if (count > 0) this.getFound.add(1, nowMs);
    this.getMessages.add(count, nowMs);
    this.getBytes.add(bytes, nowMs);
    this.getByTopicGroup.get(`${topic}@${group}`).add(count, nowMs);
    this.getBytesByTopicGroup.get(`${topic}@${group}`).add(bytes, nowMs);
  }

  /** Totals at the last two local midnights; the day rolls on the first call or record after midnight. */
  dailyTotals(nowMs: number): DailyTotals {
    this.#rollDay(nowMs);
    return { ...this.#daily };
  }

  /**
   * At the first record after a midnight, today's morning totals become yesterday's and the
   * totals so far become today's, as RocketMQ snapshots them at midnight. After more than a day
   * without records, yesterday's morning equals today's: nothing happened in between.
   */
  #rollDay(nowMs: number): void {
    if (nowMs < this.#nextMidnightMs) return;
    const skippedDays = nowMs >= this.#nextMidnightMs + 86_400_000;
    this.#daily = {
      putYesterdayMorning: skippedDays ? this.putMessages.total : this.#daily.putTodayMorning,
      putTodayMorning: this.putMessages.total,
      getYesterdayMorning: skippedDays ? this.getMessages.total : this.#daily.getTodayMorning,
      getTodayMorning: this.getMessages.total,
    };
    this.#nextMidnightMs = nextMidnightMs(nowMs);
  }
}
