/**
 * Readahead waiting to be taken: the keys past the sequential runs that
 * recorded reads moved forward, each held once (at its highest confidence)
 * until the precomputer's readahead job takes it. Bounded: beyond capacity
 * the oldest offers go first, as they are the likeliest to have been read
 * already.
 *
 * It also learns how often keys are taken (the precomputer's readahead
 * period): a key offered now waits that long, at most, to be taken.
 */
export class ReadAheadQueue {
  readonly #capacity: number;
  readonly #pending = new Map<string, number>();
  #lastTake: number | undefined;
  #periodMs = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("capacity must be a positive integer");
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#pending.size;
  }

  offer(predictions: ReadonlyArray<{ key: string; confidence: number }>): void {
    for (const p of predictions) {
      const held = this.#pending.get(p.key);
      if (held !== undefined && held >= p.confidence) continue;
      this.#pending.delete(p.key);
      this.#pending.set(p.key, p.confidence);
    }
    for (const key of this.#pending.keys()) {
      if (this.#pending.size <= this.#capacity) break;
      this.#pending.delete(key);
    }
  }

  /** A key was read: it needs no readahead any more. */
  read(key: string): void {
    this.#pending.delete(key);
  }

  /**
   * The longest recent wait between takes, ms (0 before the second take):
   * each new interval counts in full when longer, and the remembered one
   * shrinks towards shorter ones by a quarter per take.
   */
  get periodMs(): number {
    return this.#periodMs;
  }

  /** Hands out at most `limit` keys, most confident first (then oldest first); each once. `now` times the takes. */
  take(limit: number, now?: number): Array<{ key: string; confidence: number }> {
    if (now !== undefined) {
      if (this.#lastTake !== undefined && now >= this.#lastTake) {
        const interval = now - this.#lastTake;
        this.#periodMs = interval >= this.#periodMs ? interval : 0.75 * this.#periodMs + 0.25 * interval;
      }
      this.#lastTake = now;
    }
    const all = [...this.#pending].map(([key, confidence], i) => ({ key, confidence, i }));
    all.sort((a, b) => b.confidence - a.confidence || a.i - b.i);
    const out = all.slice(0, limit).map(({ key, confidence }) => ({ key, confidence }));
    for (const p of out) this.#pending.delete(p.key);
    return out;
  }
}
