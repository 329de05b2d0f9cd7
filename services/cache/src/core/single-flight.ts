/**
 * Coalesces concurrent work per key: while a call for a key is in flight,
 * later callers share its promise instead of starting their own. A failure
 * is shared too, and the key is free again as soon as the call settles.
 */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  /** Runs `work` unless a call for `key` is in flight; `shared` tells which. */
  run(key: string, work: () => Promise<T>): { promise: Promise<T>; shared: boolean } {
    const existing = this.#inflight.get(key);
    if (existing !== undefined) return { promise: existing, shared: true };
    const promise = (async () => {
      try {
        return await work();
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, promise);
    return { promise, shared: false };
  }

  get size(): number {
    return this.#inflight.size;
  }
}
