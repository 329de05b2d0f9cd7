import { streamOf } from "@prescient/analyzer";
import type { ReadClass } from "./metrics.js";

/**
 * Classifies reads independently of any policy, so that first-read and
 * after-expiry hit rates compare like with like: a key's first read, a read
 * more than a TTL after the key's previous read (cache-aside would have let
 * it expire), or a repeat.
 */
export class ReadClassifier {
  /** Per run of keys (a key less its trailing number, as the analyzer's sequential streams see it), the instant its latest read was recorded at. */
  readonly #runInstant = new Map<string, number>();
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

  /**
   * Whether a read is out of any online policy's reach: the first read of a
   * key recorded at the same instant as an earlier read of its run (the
   * other pages of one request, `block.0` to `block.7` at one timestamp).
   * Nothing read before that instant names the key, and a policy that
   * learns from reads learns of it only as it is read, so only the oracle,
   * which knows the future, can compute it first. Call it for every read,
   * in order, with the read's class.
   */
  outOfReach(key: string, instant: number, cls: ReadClass): boolean {
    const run = streamOf(key)?.stream ?? key;
    const previous = this.#runInstant.get(run);
    this.#runInstant.set(run, instant);
    return cls === "first" && previous === instant;
  }

  get keys(): number {
    return this.#slot.size;
  }
}
