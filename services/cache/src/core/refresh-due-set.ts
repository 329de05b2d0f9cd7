/**
 * Keys whose hits XFetch (or staleness) marked due for refresh, until the
 * precomputer drains them with TakeRefreshDue. Bounded: when full, the
 * oldest mark goes first, because the newest are the hottest keys.
 */
export class RefreshDueSet {
  readonly #keys = new Set<string>();
  #dropped = 0;

  constructor(readonly capacity: number) {}

  /** Answers whether the key was newly marked. */
  add(key: string): boolean {
    if (this.#keys.has(key)) return false;
    if (this.#keys.size >= this.capacity) {
      const oldest = this.#keys.values().next();
      if (!oldest.done) {
        this.#keys.delete(oldest.value);
        this.#dropped++;
      }
    }
    this.#keys.add(key);
    return true;
  }

  /** Hands out and forgets up to `limit` keys, oldest first. */
  take(limit: number): string[] {
    const out: string[] = [];
    for (const key of this.#keys) {
      if (out.length >= limit) break;
      out.push(key);
    }
    for (const key of out) this.#keys.delete(key);
    return out;
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Marks lost to the capacity bound since start. */
  get dropped(): number {
    return this.#dropped;
  }
}
