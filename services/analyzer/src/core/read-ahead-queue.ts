import { LRUCache } from "lru-cache";

/**
 * Readahead waiting to be taken: the keys past the sequential runs that
 * recorded reads moved forward, each held once (at its highest confidence)
 * until the precomputer's readahead job takes it. Bounded: beyond capacity
 * the oldest offers go first, as they are the likeliest to have been read
 * already.
 *
 * It also learns how often keys are taken (the precomputer's readahead
 * period): a key offered now waits that long, at most, to be taken; and the
 * least confidence its taker plans work for (the floor a take names): a key
 * below it is neither queued nor handed out. Between takes a busy analyzer
 * offers many times what the queue holds, and keys nobody would compute
 * must not push out those somebody would.
 */
export class ReadAheadQueue {
  /**
   * Offer order, newest last. An LRU, not a Map trimmed from its front: once
   * full, every offer evicts, and a Map iterated from the front walks the
   * holes its deletions left (6% of ingest's CPU when nobody takes).
   */
  readonly #pending: LRUCache<string, number>;
  #lastTake: number | undefined;
  #periodMs = 0;
  #floor = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("capacity must be a positive integer");
    this.#pending = new LRUCache({ max: capacity });
  }

  get size(): number {
    return this.#pending.size;
  }

  offer(predictions: ReadonlyArray<{ key: string; confidence: number }>): void {
    for (const p of predictions) this.offerKey(p.key, p.confidence);
  }

  /** One key: held at the higher of its confidences; not at all below the floor. */
  offerKey(key: string, confidence: number): void {
    if (confidence < this.#floor) return;
    const held = this.#pending.peek(key);
    if (held !== undefined && held >= confidence) return;
    // Setting moves the key to the newest end, as a fresh offer.
    this.#pending.set(key, confidence);
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

  /** The least confidence queued: the floor the last take named (0 before any did). */
  get floor(): number {
    return this.#floor;
  }

  /**
   * Hands out at most `limit` keys, most confident first (then oldest
   * first); each once. `now` times the takes. `floor` (0 to 1), when given,
   * becomes the queue's: keys below it are dropped, not handed out, and
   * later offers below it are not queued.
   */
  take(limit: number, now?: number, floor?: number): Array<{ key: string; confidence: number }> {
    if (floor !== undefined) {
      if (!(floor >= 0 && floor <= 1)) throw new RangeError("floor must be from 0 to 1");
      this.#floor = floor;
    }
    if (now !== undefined) {
      if (this.#lastTake !== undefined && now >= this.#lastTake) {
        const interval = now - this.#lastTake;
        this.#periodMs = interval >= this.#periodMs ? interval : 0.75 * this.#periodMs + 0.25 * interval;
      }
      this.#lastTake = now;
    }
    const all: Array<{ key: string; confidence: number; i: number }> = [];
    const below: string[] = [];
    this.#pending.rforEach((confidence, key) => {
      if (confidence < this.#floor) below.push(key);
      else all.push({ key, confidence, i: all.length });
    });
    this.#remove(below);
    all.sort((a, b) => b.confidence - a.confidence || a.i - b.i);
    const out = all.slice(0, limit).map(({ key, confidence }) => ({ key, confidence }));
    this.#remove(out.map((p) => p.key));
    return out;
  }

  #remove(keys: readonly string[]): void {
    // Deleting an LRUCache's last entry clears its whole capacity (two arrays of `max`), once per
    // take that empties the queue, which is most of them: popping to empty does not.
    if (keys.length === this.#pending.size) while (this.#pending.size > 0) this.#pending.pop();
    else for (const key of keys) this.#pending.delete(key);
  }
}
