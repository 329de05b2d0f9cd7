import type { ReadClass } from "./metrics.js";

/**
 * Classifies reads independently of any policy, so that first-read and
 * after-expiry hit rates compare like with like: a key's first read, a read
 * more than a TTL after the key's previous read (cache-aside would have let
 * it expire), or a repeat.
 */
export class ReadClassifier {
  readonly #last = new Map<string, number>();

  classify(key: string, time: number, ttlMs: number): ReadClass {
    const prev = this.#last.get(key);
    this.#last.set(key, time);
    if (prev === undefined) return "first";
    return time - prev >= ttlMs ? "after-expiry" : "repeat";
  }

  get keys(): number {
    return this.#last.size;
  }
}
