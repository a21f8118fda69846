import assert from "node:assert/strict";
import { RateLimiter, REDRIVE_RATE_MAX } from "./rate_limit.ts";

Deno.test("RateLimiter.tryTake() spends the burst, then refills at the rate", () => {
  let now = 0;
  const limiter = new RateLimiter(2, 2, () => now);
  assert.deepEqual(limiter.tryTake(), { ok: true });
  assert.deepEqual(limiter.tryTake(), { ok: true });
  assert.deepEqual(limiter.tryTake(), { ok: false, waitMs: 500 });
  now = 500;
  assert.deepEqual(limiter.tryTake(), { ok: true });
  now = 10_000;
  assert.deepEqual(limiter.tryTake(), { ok: true });
  assert.deepEqual(limiter.tryTake(), { ok: true });
  assert.equal(limiter.tryTake().ok, false, "the bucket holds at most the burst");
});

Deno.test("RateLimiter.take() waits for a token and stops when aborted", async () => {
  const limiter = new RateLimiter(100);
  const started = performance.now();
  await limiter.take();
  await limiter.take();
  assert.ok(performance.now() - started >= 5, "the second token came about 10 ms later");
  const controller = new AbortController();
  const slow = new RateLimiter(0.01);
  await slow.take();
  const waiting = slow.take(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
});

Deno.test("new RateLimiter() refuses rates outside (0, REDRIVE_RATE_MAX]", () => {
  assert.throws(() => new RateLimiter(0), /Invalid rate 0/);
  assert.throws(() => new RateLimiter(REDRIVE_RATE_MAX + 1), /Invalid rate/);
  assert.throws(() => new RateLimiter(Number.NaN), /Invalid rate/);
});
