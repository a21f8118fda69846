import assert from "node:assert/strict";
import { parsePrometheusText } from "../tests/_prometheus.ts";
import { Histogram, MetricsWriter } from "./prometheus.ts";

Deno.test("MetricsWriter writes families with escaped labels that parse back", () => {
  const h = new Histogram([0.1, 1]);
  for (const v of [0.05, 0.5, 0.7, 5]) h.observe(v);
  const text = new MetricsWriter()
    .counter("x_total", "A counter", [[{ topic: 'a"b\\c\nd' }, 3]])
    .gauge("y", "A gauge", [[undefined, 1.5], [{ q: "1" }, NaN]])
    .histogram("z_seconds", "A histogram", [[{ broker: "b" }, h.data()]])
    .toString();
  const families = parsePrometheusText(text);
  assert.equal(families.get("x_total")!.samples[0].labels.topic, 'a"b\\c\nd');
  assert.ok(Number.isNaN(families.get("y")!.samples[1].value));
  const z = families.get("z_seconds")!;
  assert.deepEqual(z.samples.map((s) => [s.name, s.labels.le ?? "", s.value]), [
    ["z_seconds_bucket", "0.1", 1],
    ["z_seconds_bucket", "1", 3],
    ["z_seconds_bucket", "+Inf", 4],
    ["z_seconds_sum", "", 6.25],
    ["z_seconds_count", "", 4],
  ]);
});

Deno.test("MetricsWriter refuses a family written twice", () => {
  const w = new MetricsWriter().gauge("a", "x", []);
  assert.throws(() => w.gauge("a", "x", []), /written twice/);
});

Deno.test("parsePrometheusText() rejects samples without a TYPE, bad names and non-cumulative buckets", () => {
  assert.throws(() => parsePrometheusText("x 1\n"), /no TYPE/);
  assert.throws(() => parsePrometheusText("# TYPE 1x gauge\n"), /Bad metric name/);
  assert.throws(
    () => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n'),
    /not cumulative/,
  );
});
