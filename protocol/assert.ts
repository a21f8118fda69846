/**
 * A programmer-error assertion that stays on in production (TigerBeetle style).
 *
 * Operating errors (bad input, I/O failures) are never asserted: they are handled and mapped to
 * response codes. An assertion failure means our own invariant broke, so the process should stop
 * rather than serve wrong data.
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
