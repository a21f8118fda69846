/**
 * Typed custom headers ("extFields"), read the way Java's `CommandCustomHeader` decoding reads
 * them: every value arrives as a string; ints and longs are parsed strictly, booleans with
 * `Boolean.parseBoolean` (only "true", any case, is true).
 *
 * A header is described by a schema, e.g. `{ topic: "string", queueId: "int", bname: "string?" }`;
 * `?` marks an optional field. Required fields that are missing or malformed raise a
 * {@linkcode HeaderError}, which servers answer with INVALID_PARAMETER and a remark naming the
 * field, the value and the expected form.
 *
 * @module
 */

import type { ExtFields } from "./command.ts";
import { ProtocolError } from "./errors.ts";

/** A header field's type. `long` is a JS number: exact up to 2^53, as offsets must be. */
export type FieldType = "string" | "int" | "long" | "boolean";
/** A field type, optionally marked optional with `?`. */
export type FieldSpec = FieldType | `${FieldType}?`;
/** A header schema: field name → type. */
export type HeaderSchema = Record<string, FieldSpec>;

type Base<T> = T extends `${infer B}?` ? B : T;
type ValueOf<T> = Base<T> extends "string" ? string
  : Base<T> extends "int" | "long" ? number
  : Base<T> extends "boolean" ? boolean
  : never;
type RequiredKeys<S> = { [K in keyof S]: S[K] extends `${string}?` ? never : K }[keyof S];
type OptionalKeys<S> = { [K in keyof S]: S[K] extends `${string}?` ? K : never }[keyof S];

/** The decoded form of a header with schema `S`. */
export type Header<S extends HeaderSchema> =
  & { [K in RequiredKeys<S>]: ValueOf<S[K]> }
  & { [K in OptionalKeys<S>]?: ValueOf<S[K]> };

/** A header field is missing or malformed. */
export class HeaderError extends ProtocolError {
  override name = "HeaderError";
}

const INTEGER = /^[+-]?\d{1,20}$/;

/**
 * The integer written in `raw` when it matches `^[+-]?\d{1,20}$`, else NaN. Up to 15 digits
 * (exact in a double) it is read by hand, which is several times faster than a regex test and
 * `Number()`; longer ones go through `Number()` for the same rounding.
 */
function integerOf(raw: string): number {
  const length = raw.length;
  if (length === 0 || length > 16) return INTEGER.test(raw) ? Number(raw) : NaN;
  let i = 0;
  let negative = false;
  const first = raw.charCodeAt(0);
  if (first === 45 /* - */ || first === 43 /* + */) {
    negative = first === 45;
    i = 1;
    if (length === 1) return NaN;
  }
  if (length - i > 15) return INTEGER.test(raw) ? Number(raw) : NaN;
  let n = 0;
  for (; i < length; i++) {
    const digit = raw.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return NaN;
    n = n * 10 + digit;
  }
  return negative ? -n : n;
}

function parseField(headerName: string, field: string, type: FieldType, raw: string): string | number | boolean {
  switch (type) {
    case "string":
      return raw;
    case "boolean":
      return raw.length === 4 ? raw.toLowerCase() === "true" : false;
    case "int": {
      const n = integerOf(raw);
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
        throw new HeaderError(`Cannot read ${headerName}: "${field}" must be a 32-bit integer, got "${raw}"`);
      }
      return n;
    }
    case "long": {
      const n = integerOf(raw);
      if (!Number.isFinite(n)) {
        throw new HeaderError(`Cannot read ${headerName}: "${field}" must be a 64-bit integer, got "${raw}"`);
      }
      return n;
    }
  }
}

/** A schema's fields, split once: reading a header then does no string work on the schema. */
interface CompiledField {
  name: string;
  type: FieldType;
  optional: boolean;
}

const compiledSchemas = new WeakMap<HeaderSchema, CompiledField[]>();

function compile(schema: HeaderSchema): CompiledField[] {
  let fields = compiledSchemas.get(schema);
  if (!fields) {
    fields = [];
    for (const name in schema) {
      const spec = schema[name];
      const optional = spec.endsWith("?");
      fields.push({ name, type: (optional ? spec.slice(0, -1) : spec) as FieldType, optional });
    }
    compiledSchemas.set(schema, fields);
  }
  return fields;
}

/**
 * Decodes `extFields` against `schema`.
 *
 * @param headerName used in error messages, e.g. `"SEND_MESSAGE_V2 header"`.
 * @throws {HeaderError} when a required field is missing or any present field is malformed.
 */
export function readHeader<S extends HeaderSchema>(headerName: string, schema: S, extFields: ExtFields): Header<S> {
  const out: Record<string, unknown> = {};
  const fields = compile(schema);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    const raw = extFields[field.name];
    if (raw === undefined) {
      if (!field.optional) {
        throw new HeaderError(`Cannot read ${headerName}: required field "${field.name}" is missing`);
      }
      continue;
    }
    out[field.name] = field.type === "string" ? raw : parseField(headerName, field.name, field.type, raw);
  }
  return out as Header<S>;
}

/** Turns header values into extFields strings, skipping undefined and null. */
export function toExtFields(values: Record<string, string | number | boolean | undefined | null>): ExtFields {
  const out: ExtFields = {};
  for (const key in values) {
    const value = values[key];
    if (value !== undefined && value !== null) out[key] = String(value);
  }
  return out;
}
