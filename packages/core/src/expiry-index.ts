import { MinHeap } from "./min-heap.js";

/** A stored result near its expiry; `expiresAt` undefined once it has expired. */
export interface NearExpiryEntry {
  key: string;
  tenant: string;
  taskType: string;
  /** Raw entity id. */
  entityId: string;
  expiresAt: number | undefined;
}

interface Indexed extends NearExpiryEntry {
  expiresAt: number;
}

/**
 * Which stored results are near expiry, for refresh-ahead: one min-heap of
 * expiries per task type (each type has its own refresh horizon), so a run
 * looks only at the results that entered their horizon, never at the whole
 * store. A result stays offered until it is replaced or expires; an expired
 * one is offered once more (a hot key with no result is due at once), then
 * forgotten. Replaced and removed results are dropped when they surface, or
 * when stale heap slots outnumber the live ones: then the heaps are rebuilt
 * from the live results. Without that, a store that is overwritten fast and
 * asked rarely (no precomputer polling) kept one slot per write for a whole
 * TTL, far past what the store itself holds.
 */
export class ExpiryIndex {
  /** The current result of each key. */
  readonly #current = new Map<string, Indexed>();
  readonly #byType = new Map<string, MinHeap<Indexed>>();
  /** Results handed out as near expiry, until they expire or are replaced. */
  readonly #due = new Map<string, Indexed>();
  /** Slots in all the heaps, stale ones included. */
  #heapSlots = 0;

  get size(): number {
    return this.#current.size;
  }

  /** Sizes of the inner structures, for tests that check they stay bounded. */
  get sizes(): { current: number; heapSlots: number; due: number } {
    return { current: this.#current.size, heapSlots: this.#heapSlots, due: this.#due.size };
  }

  stored(entry: Omit<NearExpiryEntry, "expiresAt"> & { expiresAt: number }): void {
    const e: Indexed = { ...entry };
    this.#current.set(e.key, e);
    this.#due.delete(e.key);
    this.#push(e);
    // Amortized: a rebuild costs the live count, and at least as many writes came before it.
    if (this.#heapSlots > 2 * this.#current.size + 1024) this.#rebuild();
  }

  /** The key's result is gone (evicted, invalidated): nothing of it is offered. */
  removed(key: string): void {
    this.#current.delete(key);
    this.#due.delete(key);
  }

  /** Results within `horizonOf(type)` of expiry at `now`, and those expired since the last call. */
  nearExpiry(
    now: number,
    horizonOf: (taskType: string) => number,
    filter: { taskType?: string | undefined; tenant?: string | undefined } = {},
  ): NearExpiryEntry[] {
    for (const [type, heap] of this.#byType) {
      const until = now + horizonOf(type);
      for (let e = heap.peek(); e !== undefined && e.expiresAt <= until; e = heap.peek()) {
        heap.pop();
        this.#heapSlots--;
        if (this.#current.get(e.key) === e) this.#due.set(e.key, e);
      }
      if (heap.size === 0) this.#byType.delete(type);
    }
    const out: NearExpiryEntry[] = [];
    for (const [key, e] of this.#due) {
      const expired = e.expiresAt <= now;
      if (expired) {
        this.#due.delete(key);
        this.#current.delete(key);
      }
      if (filter.taskType !== undefined && e.taskType !== filter.taskType) continue;
      if (filter.tenant !== undefined && e.tenant !== filter.tenant) continue;
      out.push(expired ? { ...e, expiresAt: undefined } : e);
    }
    return out;
  }

  #push(e: Indexed): void {
    let heap = this.#byType.get(e.taskType);
    if (heap === undefined) {
      heap = new MinHeap<Indexed>((a, b) => a.expiresAt < b.expiresAt);
      this.#byType.set(e.taskType, heap);
    }
    heap.push(e);
    this.#heapSlots++;
  }

  /** Heaps of only the live results not handed out yet (the due ones have left their heap). */
  #rebuild(): void {
    this.#byType.clear();
    this.#heapSlots = 0;
    for (const [key, e] of this.#current) if (this.#due.get(key) !== e) this.#push(e);
  }
}
