/**
 * A programmer-error assertion that stays on in production (TigerBeetle style): a deliberate copy
 * of `protocol/assert.ts`, so the store imports nothing from outside itself but the record codec.
 *
 * In the store an assertion failure means our own invariant broke; the process should stop rather
 * than serve or persist wrong data, and recovery repairs the files on restart.
 *
 * @module
 */

/** Thrown when an internal invariant does not hold. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Throws {@linkcode AssertionError} with `message` when `condition` is falsy. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Asserts `value` is a non-negative safe integer: every offset and size in the store is one. */
export function assertOffset(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AssertionError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}
