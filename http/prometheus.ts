/**
 * Prometheus text exposition (format 0.0.4): families with HELP and TYPE lines, escaped label
 * values, counters, gauges and histograms.
 *
 * @module
 */

/** Labels of one sample. */
export type Labels = Record<string, string | number>;

/** The content type scrapers expect. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return "";
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Cumulative bucket counts of a histogram. */
export interface HistogramData {
  /** Upper bounds, ascending, without +Inf. */
  bounds: readonly number[];
  /** Count per bucket (not cumulative), one more than `bounds` (the last is +Inf). */
  counts: readonly number[];
  sum: number;
}

/** Builds one exposition document. */
export class MetricsWriter {
  readonly #lines: string[] = [];
  readonly #seen = new Set<string>();

  #family(name: string, type: string, help: string): void {
    if (this.#seen.has(name)) throw new TypeError(`Metric family "${name}" written twice`);
    this.#seen.add(name);
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
  }

  /** A counter family; names end in `_total`. */
  counter(name: string, help: string, samples: Iterable<[Labels | undefined, number]>): this {
    this.#family(name, "counter", help);
    for (const [labels, value] of samples) this.#lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  /** A gauge family. */
  gauge(name: string, help: string, samples: Iterable<[Labels | undefined, number]>): this {
    this.#family(name, "gauge", help);
    for (const [labels, value] of samples) this.#lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  /** A histogram family. */
  histogram(name: string, help: string, samples: Iterable<[Labels | undefined, HistogramData]>): this {
    this.#family(name, "histogram", help);
    for (const [labels, data] of samples) {
      let cumulative = 0;
      data.bounds.forEach((bound, i) => {
        cumulative += data.counts[i] ?? 0;
        this.#lines.push(`${name}_bucket${formatLabels({ ...labels, le: formatValue(bound) })} ${cumulative}`);
      });
      cumulative += data.counts[data.bounds.length] ?? 0;
      this.#lines.push(`${name}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${cumulative}`);
      this.#lines.push(`${name}_sum${formatLabels(labels)} ${formatValue(data.sum)}`);
      this.#lines.push(`${name}_count${formatLabels(labels)} ${cumulative}`);
    }
    return this;
  }

  /** The document, newline-terminated. */
  toString(): string {
    return this.#lines.join("\n") + "\n";
  }
}

/** A fixed-bucket histogram to observe values into. */
export class Histogram {
  readonly bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.#counts = new Array(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.#counts[i]++;
    this.#sum += value;
  }

  data(): HistogramData {
    return { bounds: this.bounds, counts: [...this.#counts], sum: this.#sum };
  }
}
