import { mulberry32 } from "@prescient/core";

/**
 * A small seeded PRNG (mulberry32) so that example data, training and tests
 * are reproducible: the same seed gives the same model bytes on every run.
 */
export class Rng {
  readonly #uniform: () => number;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#uniform = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#uniform();
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  bernoulli(p: number): number {
    return this.next() < p ? 1 : 0;
  }

  /** Standard normal, by Box-Muller (keeps the second value for the next call). */
  normal(): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return s;
    }
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
