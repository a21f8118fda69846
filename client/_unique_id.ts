/**
 * Client message ids (UNIQ_KEY) on the send hot path: the same layout and output as
 * `protocol/message.ts`'s `UniqueIdGenerator` (`ip | pid i16 | instance hash i32 | ms since the
 * start of the month i32 | counter i16`, upper-case hex), built from a precomputed prefix and a
 * hex table so an id costs one string and no buffers.
 *
 * Private to `client/`.
 *
 * @module
 */

import { bytesToHex, type UniqueIdOptions } from "../protocol/message.ts";

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, "0"));

/** Generates UNIQ_KEY ids; see the module note. */
export class FastUniqueIdGenerator {
  readonly #prefix: string;
  readonly #now: () => number;
  #counter = 0;
  #monthStart = 0;
  #nextMonthStart = 0;

  constructor(options: UniqueIdOptions = {}) {
    const ip = options.ip ?? new Uint8Array([127, 0, 0, 1]);
    const fixed = new Uint8Array(ip.length + 6);
    fixed.set(ip, 0);
    const view = new DataView(fixed.buffer);
    view.setInt16(ip.length, (options.pid ?? 0) & 0xffff);
    view.setInt32(ip.length + 2, options.instanceHash ?? Math.floor(Math.random() * 2 ** 31));
    this.#prefix = bytesToHex(fixed);
    this.#now = options.now ?? Date.now;
  }

  /** A new id. */
  next(): string {
    const now = this.#now();
    if (now >= this.#nextMonthStart || now < this.#monthStart) {
      const d = new Date(now);
      this.#monthStart = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
      this.#nextMonthStart = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
    }
    // Java casts to int, which wraps after ~24.8 days; the bytes are what matters.
    const delta = (now - this.#monthStart) >>> 0;
    const counter = this.#counter;
    this.#counter = (counter + 1) & 0xffff;
    return this.#prefix + HEX[delta >>> 24] + HEX[(delta >>> 16) & 0xff] + HEX[(delta >>> 8) & 0xff] +
      HEX[delta & 0xff] + HEX[counter >>> 8] + HEX[counter & 0xff];
  }
}
