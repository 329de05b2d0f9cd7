/**
 * Space-Saving heavy hitters (Metwally et al., 2005) over weighted
 * increments, in bounded memory: at most `capacity` items are counted; a new
 * item replaces the smallest one and inherits its count as its error bound,
 * so every item whose true weight exceeds total/capacity is guaranteed to be
 * present. An indexed binary min-heap gives O(log capacity) per update.
 */
export interface HeavyHitter {
  item: string;
  /** Estimated weight (an over-estimate by at most `error`). */
  count: number;
  error: number;
}

export class SpaceSaving {
  readonly capacity: number;
  readonly #heap: HeavyHitter[] = [];
  readonly #index = new Map<string, number>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("capacity must be a positive integer");
    this.capacity = capacity;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Adds weight to an item; returns the item it evicted, if any. */
  add(item: string, weight: number): string | undefined {
    const at = this.#index.get(item);
    if (at !== undefined) {
      this.#heap[at]!.count += weight;
      this.#down(at);
      return undefined;
    }
    if (this.#heap.length < this.capacity) {
      this.#heap.push({ item, count: weight, error: 0 });
      this.#index.set(item, this.#heap.length - 1);
      this.#up(this.#heap.length - 1);
      return undefined;
    }
    const min = this.#heap[0]!;
    const evicted = min.item;
    this.#index.delete(evicted);
    this.#heap[0] = { item, count: min.count + weight, error: min.count };
    this.#index.set(item, 0);
    this.#down(0);
    return evicted;
  }

  get(item: string): HeavyHitter | undefined {
    const at = this.#index.get(item);
    return at === undefined ? undefined : { ...this.#heap[at]! };
  }

  delete(item: string): boolean {
    const at = this.#index.get(item);
    if (at === undefined) return false;
    const last = this.#heap.pop()!;
    this.#index.delete(item);
    if (at < this.#heap.length) {
      this.#heap[at] = last;
      this.#index.set(last.item, at);
      this.#down(at);
      this.#up(at);
    }
    return true;
  }

  /** Multiplies every count and error (a landmark move); the order is unchanged. */
  scale(factor: number): void {
    for (const h of this.#heap) {
      h.count *= factor;
      h.error *= factor;
    }
  }

  /** Items by descending count. */
  top(limit = this.capacity): HeavyHitter[] {
    return [...this.#heap]
      .sort((a, b) => b.count - a.count || (a.item < b.item ? -1 : 1))
      .slice(0, limit)
      .map((h) => ({ ...h }));
  }

  #less(i: number, j: number): boolean {
    return this.#heap[i]!.count < this.#heap[j]!.count;
  }

  #swap(i: number, j: number): void {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    this.#heap[i] = b;
    this.#heap[j] = a;
    this.#index.set(b.item, i);
    this.#index.set(a.item, j);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < n && this.#less(l, smallest)) smallest = l;
      if (r < n && this.#less(r, smallest)) smallest = r;
      if (smallest === i) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }
}
