import type { ReadClass } from "./metrics.js";

/**
 * Classifies reads independently of any policy, so that first-read and
 * after-expiry hit rates compare like with like: a key's first read, a read
 * more than a TTL after the key's previous read (cache-aside would have let
 * it expire), or a repeat.
 */
export class ReadClassifier {
  /** Each key's slot in `#last`: the times live in a typed array, so a read writes a number, not a new box. */
  readonly #slot = new Map<string, number>();
  #last = new Float64Array(1024);

  classify(key: string, time: number, ttlMs: number): ReadClass {
    const slot = this.#slot.get(key);
    if (slot === undefined) {
      const added = this.#slot.size;
      if (added === this.#last.length) {
        const grown = new Float64Array(added * 2);
        grown.set(this.#last);
        this.#last = grown;
      }
      this.#slot.set(key, added);
      this.#last[added] = time;
      return "first";
    }
    const prev = this.#last[slot]!;
    this.#last[slot] = time;
    return time - prev >= ttlMs ? "after-expiry" : "repeat";
  }

  get keys(): number {
    return this.#slot.size;
  }
}
