import assert from "node:assert/strict";
import { BrokerStats, RateCounter } from "./stats.ts";

Deno.test("RateCounter.window() sums the last minute, hour and day with the average per add", () => {
  const counter = new RateCounter();
  const t0 = Date.UTC(2030, 0, 1, 12, 0, 0);
  counter.add(4, t0);
  counter.add(2, t0 + 500);
  assert.deepEqual(counter.window("minute", t0 + 900), { sum: 6, tps: 6 / 60, avgpt: 3 });
  counter.add(10, t0 + 30 * 60_000);
  const later = t0 + 30 * 60_000 + 61_000;
  assert.equal(counter.window("minute", later).sum, 0, "a minute later the minute window is empty");
  assert.deepEqual(counter.window("hour", later), { sum: 16, tps: 16 / 3600, avgpt: 16 / 3 });
  assert.equal(counter.window("hour", t0 + 2 * 3_600_000).sum, 0);
  assert.equal(counter.window("day", t0 + 2 * 3_600_000).sum, 16);
  assert.equal(counter.window("day", t0 + 25 * 3_600_000).sum, 0);
});

Deno.test("BrokerStats.dailyTotals() rolls the morning totals at local midnight", () => {
  const stats = new BrokerStats();
  const start = stats.startedAtMs;
  const midnight = new Date(start);
  midnight.setHours(24, 0, 0, 0);
  stats.recordPut("T", 3, 30, start);
  stats.recordGet("T", "G", 2, 20, start);
  assert.deepEqual(stats.dailyTotals(start), {
    putYesterdayMorning: 0,
    putTodayMorning: 0,
    getYesterdayMorning: 0,
    getTodayMorning: 0,
  });
  stats.recordPut("T", 1, 10, midnight.getTime() + 1000);
  assert.deepEqual(stats.dailyTotals(midnight.getTime() + 2000), {
    putYesterdayMorning: 0,
    putTodayMorning: 3,
    getYesterdayMorning: 0,
    getTodayMorning: 2,
  });
  const dayAfter = midnight.getTime() + 86_400_000 + 1000;
  assert.deepEqual(stats.dailyTotals(dayAfter), {
    putYesterdayMorning: 3,
    putTodayMorning: 4,
    getYesterdayMorning: 2,
    getTodayMorning: 2,
  });
  assert.equal(stats.getFound.total, 1, "one pull found messages");
});
