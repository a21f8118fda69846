/**
 * Seeded randomness for the torture suites: one seed reproduces a run.
 *
 * @module
 */

/** A small, fast seeded PRNG (mulberry32). */
export class Random {
  #state: number;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6D2B79F5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** The seed from `--seed`, else `DENOMQ_SEED`, else the clock. */
export function seedFrom(flag: string | undefined): number {
  if (flag !== undefined) return Number(flag) >>> 0;
  let env: string | undefined;
  try {
    env = Deno.env.get("DENOMQ_SEED");
  } catch {
    env = undefined;
  }
  return env !== undefined ? Number(env) >>> 0 : Date.now() % 2 ** 31;
}
