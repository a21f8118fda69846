import assert from "node:assert/strict";
import { formatJavaDate, humanReadableBytes, javaDouble, mqVersionDesc } from "./_admin_util.ts";

Deno.test("mqVersionDesc() names MQVersion ordinals as RocketMQ does", () => {
  assert.equal(mqVersionDesc(0), "V3_0_0_SNAPSHOT");
  assert.equal(mqVersionDesc(15), "V3_0_0_FINAL");
  assert.equal(mqVersionDesc(28), "V3_0_7_SNAPSHOT");
  assert.equal(mqVersionDesc(62), "V3_1_8_SNAPSHOT");
  assert.equal(mqVersionDesc(86), "V3_3_1_SNAPSHOT");
  assert.equal(mqVersionDesc(121), "V3_4_9");
  assert.equal(mqVersionDesc(212), "V4_0_0_SNAPSHOT");
  assert.equal(mqVersionDesc(317), "V4_5_2");
  assert.equal(mqVersionDesc(407), "V4_9_7");
  assert.equal(mqVersionDesc(409), "V4_9_8");
  assert.equal(mqVersionDesc(611), "V5_9_9");
  assert.equal(mqVersionDesc(5000), "V5_9_9", "past the last ordinal names the last");
});

Deno.test("humanReadableBytes(), javaDouble() and formatJavaDate() write values as Java does", () => {
  assert.equal(humanReadableBytes(0), "0 B");
  assert.equal(humanReadableBytes(1023), "1023 B");
  assert.equal(humanReadableBytes(1536), "1.5 KiB");
  assert.equal(humanReadableBytes(252 * 1024 ** 3), "252.0 GiB");
  assert.equal(javaDouble(0), "0.0");
  assert.equal(javaDouble(0.05), "0.05");
  assert.equal(javaDouble(NaN), "0.0");
  const local = new Date(2026, 10, 26, 6, 36, 12, 121).getTime();
  assert.equal(formatJavaDate(local), "2026-11-26#06:36:12:121");
});
