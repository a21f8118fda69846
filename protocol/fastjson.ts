/**
 * JSON as fastjson 1.x writes and reads it, for remoting bodies.
 *
 * Java brokers and nameservers serialize `Map<Long, String>` and `Map<Integer, Long>` with
 * **unquoted** integer keys (`{0:"127.0.0.1:10911"}`) and `Map<MessageQueue, …>` with object keys
 * (`{{"brokerName":"b","queueId":0,"topic":"t"}:{…}}`). Neither is valid JSON, and clients parse
 * them with lenient readers. {@linkcode stringifyFastJson} writes them from a JS `Map`;
 * {@linkcode parseFastJson} reads them back.
 *
 * Writing rules (fastjson defaults): object fields in the order given (callers list bean fields
 * alphabetically, as fastjson sorts them), `null`/`undefined` fields omitted, `Set` as an array,
 * a `Map` with number or bigint keys written with bare keys, a `Map` with object keys written
 * with JSON-object keys, `bigint` as a bare number.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

/** Serializes `value` the way fastjson would. */
export function stringifyFastJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

function write(value: unknown, out: string[]): void {
  switch (typeof value) {
    case "string":
      out.push(JSON.stringify(value));
      return;
    case "number":
      out.push(Number.isFinite(value) ? String(value) : "null");
      return;
    case "bigint":
      out.push(value.toString());
      return;
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "undefined":
    case "function":
    case "symbol":
      out.push("null");
      return;
  }
  if (value === null) {
    out.push("null");
    return;
  }
  if (Array.isArray(value) || value instanceof Set) {
    out.push("[");
    let first = true;
    for (const item of value) {
      if (!first) out.push(",");
      first = false;
      write(item, out);
    }
    out.push("]");
    return;
  }
  if (value instanceof Map) {
    out.push("{");
    let first = true;
    for (const [key, item] of value) {
      if (item === undefined || item === null) continue;
      if (!first) out.push(",");
      first = false;
      if (typeof key === "number" || typeof key === "bigint") out.push(String(key));
      else if (typeof key === "string") out.push(JSON.stringify(key));
      else write(key, out);
      out.push(":");
      write(item, out);
    }
    out.push("}");
    return;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    write((value as { toJSON(): unknown }).toJSON(), out);
    return;
  }
  out.push("{");
  let first = true;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined || item === null) continue;
    if (!first) out.push(",");
    first = false;
    out.push(JSON.stringify(key), ":");
    write(item, out);
  }
  out.push("}");
}

/** Nesting allowed by {@linkcode parseFastJson}; remoting bodies nest less than 10 levels. */
export const fastJsonDepthMax = 64;

/**
 * Parses fastjson output leniently: standard JSON plus bare numeric keys, bare identifier keys,
 * single-quoted strings, and object keys.
 *
 * An object whose keys are all strings or numbers becomes a plain object (numeric keys as
 * strings, as `JSON.parse` would give for `{"0":…}`). An object with any object-valued key becomes
 * a `Map` from the parsed keys to values.
 *
 * @throws {ProtocolError} on malformed input or nesting deeper than {@linkcode fastJsonDepthMax}.
 */
export function parseFastJson(text: string): unknown {
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.pos !== text.length) parser.fail("unexpected trailing characters");
  return value;
}

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(reason: string): never {
    throw new ProtocolError(`Cannot parse fastjson at offset ${this.pos}: ${reason}`);
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  value(depth: number): unknown {
    if (depth > fastJsonDepthMax) this.fail(`nesting deeper than ${fastJsonDepthMax}`);
    const c = this.text[this.pos];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"' || c === "'") return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    const word = this.identifier();
    if (word === "true") return true;
    if (word === "false") return false;
    if (word === "null") return null;
    return this.fail(word ? `unexpected word "${word}"` : "unexpected character");
  }

  object(depth: number): Record<string, unknown> | Map<unknown, unknown> {
    this.pos++; // {
    const entries: [unknown, unknown][] = [];
    let objectKeys = false;
    this.skipSpace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return {};
    }
    while (true) {
      this.skipSpace();
      const c = this.text[this.pos];
      let key: unknown;
      if (c === '"' || c === "'") key = this.string();
      else if (c === "{" || c === "[") {
        key = this.value(depth + 1);
        objectKeys = true;
      } else if (c === "-" || (c >= "0" && c <= "9")) key = String(this.number());
      else {
        key = this.identifier();
        if (!key) this.fail("expected an object key");
      }
      this.skipSpace();
      if (this.text[this.pos] !== ":") this.fail('expected ":"');
      this.pos++;
      this.skipSpace();
      entries.push([key, this.value(depth + 1)]);
      this.skipSpace();
      const next = this.text[this.pos++];
      if (next === "}") break;
      if (next !== ",") this.fail('expected "," or "}"');
    }
    if (objectKeys) return new Map(entries);
    const result: Record<string, unknown> = {};
    for (const [key, item] of entries) result[key as string] = item;
    return result;
  }

  array(depth: number): unknown[] {
    this.pos++; // [
    const items: unknown[] = [];
    this.skipSpace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return items;
    }
    while (true) {
      this.skipSpace();
      items.push(this.value(depth + 1));
      this.skipSpace();
      const next = this.text[this.pos++];
      if (next === "]") break;
      if (next !== ",") this.fail('expected "," or "]"');
    }
    return items;
  }

  string(): string {
    const quote = this.text[this.pos];
    const start = this.pos;
    this.pos++;
    let out = "";
    let chunkStart = this.pos;
    const t = this.text;
    while (true) {
      if (this.pos >= t.length) {
        this.pos = start;
        this.fail("unterminated string");
      }
      const c = t[this.pos];
      if (c === quote) break;
      if (c === "\\") {
        out += t.slice(chunkStart, this.pos);
        const e = t[this.pos + 1];
        this.pos += 2;
        switch (e) {
          case "n":
            out += "\n";
            break;
          case "t":
            out += "\t";
            break;
          case "r":
            out += "\r";
            break;
          case "b":
            out += "\b";
            break;
          case "f":
            out += "\f";
            break;
          case "u": {
            const hex = t.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape");
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 4;
            break;
          }
          case undefined:
            this.fail("unterminated escape");
            break;
          default:
            out += e;
        }
        chunkStart = this.pos;
        continue;
      }
      this.pos++;
    }
    out += t.slice(chunkStart, this.pos);
    this.pos++; // closing quote
    return out;
  }

  number(): number {
    const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!match) this.fail("bad number");
    this.pos += match[0].length;
    return Number(match[0]);
  }

  identifier(): string {
    const match = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(this.text.slice(this.pos, this.pos + 256));
    if (!match) return "";
    this.pos += match[0].length;
    return match[0];
  }
}
