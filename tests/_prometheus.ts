/**
 * Test helper: a strict parser of the Prometheus text format 0.0.4, so tests prove `/metrics`
 * parses: every line is a comment, a HELP/TYPE line or a sample; names and labels are well
 * formed; a family's TYPE comes before its samples and appears once; histogram buckets are
 * cumulative and end in `+Inf` equal to `_count`.
 *
 * @module
 */

/** One sample. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One family. */
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new SyntaxError(`Bad labels in "${line}"`);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new SyntaxError(`Bad label name "${name}" in "${line}"`);
    if (text[eq + 1] !== '"') throw new SyntaxError(`Unquoted label value in "${line}"`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\\") {
        const next = text[++j];
        if (next === "n") value += "\n";
        else if (next === "\\" || next === '"') value += next;
        else throw new SyntaxError(`Bad escape in "${line}"`);
      } else value += text[j];
    }
    if (text[j] !== '"') throw new SyntaxError(`Unterminated label value in "${line}"`);
    if (name in labels) throw new SyntaxError(`Label "${name}" twice in "${line}"`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (i < text.length) throw new SyntaxError(`Expected "," in "${line}"`);
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  if (text === "" || Number.isNaN(n)) throw new SyntaxError(`Bad value "${text}" in "${line}"`);
  return n;
}

function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  for (const suffix of ["", "_bucket", "_sum", "_count"]) {
    if (suffix && !name.endsWith(suffix)) continue;
    const family = families.get(name.slice(0, name.length - suffix.length));
    if (family && (suffix === "" || family.type === "histogram" || family.type === "summary")) return family;
  }
  return undefined;
}

/**
 * Parses an exposition document.
 *
 * @throws {SyntaxError} at the first line that breaks the format.
 */
export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new SyntaxError("The document must end with a newline");
  const families = new Map<string, Family>();
  for (const line of text.split("\n").slice(0, -1)) {
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      if (!NAME.test(name)) throw new SyntaxError(`Bad metric name in "${line}"`);
      const family = families.get(name) ?? { name, type: "untyped", help: "", samples: [] };
      if (kind === "TYPE") {
        if (!TYPES.has(rest[0]) || rest.length !== 1) throw new SyntaxError(`Bad type in "${line}"`);
        if (family.samples.length > 0 || family.type !== "untyped") {
          throw new SyntaxError(`TYPE of "${name}" after its samples or twice`);
        }
        family.type = rest[0];
      } else family.help = rest.join(" ");
      families.set(name, family);
      continue;
    }
    if (line.startsWith("#") || line.trim() === "") continue;
    const brace = line.indexOf("{");
    const space = line.lastIndexOf(" ");
    let name: string;
    let labels: Record<string, string> = {};
    if (brace >= 0 && brace < space) {
      name = line.slice(0, brace);
      const close = line.lastIndexOf("}");
      if (close < brace) throw new SyntaxError(`Unclosed labels in "${line}"`);
      labels = parseLabels(line.slice(brace + 1, close), line);
    } else {
      name = line.slice(0, space);
    }
    if (!NAME.test(name)) throw new SyntaxError(`Bad metric name in "${line}"`);
    const valueText = line.slice(space + 1);
    const family = familyOf(name, families);
    if (!family) throw new SyntaxError(`Sample "${name}" has no TYPE line before it`);
    family.samples.push({ name, labels, value: parseValue(valueText, line) });
  }
  for (const family of families.values()) {
    if (family.type !== "histogram") continue;
    const groups = new Map<string, Sample[]>();
    for (const s of family.samples.filter((s) => s.name.endsWith("_bucket"))) {
      const { le: _, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    for (const [key, buckets] of groups) {
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i].value < buckets[i - 1].value) throw new SyntaxError(`${family.name} buckets are not cumulative`);
      }
      const last = buckets.at(-1)!;
      if (last.labels.le !== "+Inf") throw new SyntaxError(`${family.name} buckets do not end in +Inf`);
      const count = family.samples.find((s) =>
        s.name === `${family.name}_count` &&
        JSON.stringify(s.labels) === key
      );
      if (!count || count.value !== last.value) {
        throw new SyntaxError(`${family.name}_count differs from its +Inf bucket`);
      }
    }
  }
  return families;
}
