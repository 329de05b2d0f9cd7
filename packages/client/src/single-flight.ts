/**
 * Concurrent calls for one key share one promise, so a burst of misses on a
 * hot key computes it once. The map holds only calls in flight.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    const p = work().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }

  get size(): number {
    return this.#inFlight.size;
  }
}
