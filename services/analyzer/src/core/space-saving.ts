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

/**
 * The heap is kept in typed arrays: a sift compares and moves numbers only,
 * in memory laid out by heap position, where a heap of objects would chase a
 * pointer per comparison. Each item has a slot (its index in the per-item
 * arrays), kept while it is counted.
 */
export class SpaceSaving {
  readonly capacity: number;
  /** Each counted item's slot. */
  readonly #slotOf = new Map<string, number>();
  /** By slot: the item, its error bound and its heap position. */
  readonly #items: string[] = [];
  #errors: Float64Array;
  #pos: Int32Array;
  /** By heap position (a min-heap by count): the slot, and the count. */
  #heap: Int32Array;
  #counts: Float64Array;
  #size = 0;
  /** Slots freed by delete, to reuse. */
  readonly #free: number[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("capacity must be a positive integer");
    this.capacity = capacity;
    const initial = Math.min(capacity, 64);
    this.#errors = new Float64Array(initial);
    this.#pos = new Int32Array(initial);
    this.#heap = new Int32Array(initial);
    this.#counts = new Float64Array(initial);
  }

  get size(): number {
    return this.#size;
  }

  /** Adds weight to an item; returns the item it evicted, if any. */
  add(item: string, weight: number): string | undefined {
    const slot = this.#slotOf.get(item);
    if (slot !== undefined) {
      const at = this.#pos[slot]!;
      this.#counts[at]! += weight;
      this.#down(at);
      return undefined;
    }
    if (this.#size < this.capacity) {
      const at = this.#size++;
      if (at === this.#heap.length) this.#grow();
      const added = this.#free.pop() ?? at;
      this.#items[added] = item;
      this.#errors[added] = 0;
      this.#slotOf.set(item, added);
      this.#heap[at] = added;
      this.#pos[added] = at;
      this.#counts[at] = weight;
      this.#up(at);
      return undefined;
    }
    // Full: the item takes the place (and the slot) of the least counted one, inheriting its count as error.
    const reused = this.#heap[0]!;
    const evicted = this.#items[reused]!;
    const minCount = this.#counts[0]!;
    this.#slotOf.delete(evicted);
    this.#items[reused] = item;
    this.#errors[reused] = minCount;
    this.#slotOf.set(item, reused);
    this.#counts[0] = minCount + weight;
    this.#down(0);
    return evicted;
  }

  get(item: string): HeavyHitter | undefined {
    const slot = this.#slotOf.get(item);
    if (slot === undefined) return undefined;
    return { item, count: this.#counts[this.#pos[slot]!]!, error: this.#errors[slot]! };
  }

  /** The item's estimated weight (get(item)?.count), without a copy. */
  count(item: string): number | undefined {
    const slot = this.#slotOf.get(item);
    return slot === undefined ? undefined : this.#counts[this.#pos[slot]!];
  }

  delete(item: string): boolean {
    const slot = this.#slotOf.get(item);
    if (slot === undefined) return false;
    const at = this.#pos[slot]!;
    const last = --this.#size;
    this.#slotOf.delete(item);
    this.#items[slot] = "";
    this.#free.push(slot);
    if (at < last) {
      const moved = this.#heap[last]!;
      this.#heap[at] = moved;
      this.#counts[at] = this.#counts[last]!;
      this.#pos[moved] = at;
      this.#down(at);
      this.#up(at);
    }
    return true;
  }

  /** Multiplies every count and error (a landmark move); the order is unchanged. */
  scale(factor: number): void {
    for (let at = 0; at < this.#size; at++) {
      this.#counts[at]! *= factor;
      this.#errors[this.#heap[at]!]! *= factor;
    }
  }

  /** Items by descending count. */
  top(limit = this.capacity): HeavyHitter[] {
    const all: HeavyHitter[] = [];
    for (let at = 0; at < this.#size; at++) {
      const slot = this.#heap[at]!;
      all.push({ item: this.#items[slot]!, count: this.#counts[at]!, error: this.#errors[slot]! });
    }
    return all.sort((a, b) => b.count - a.count || (a.item < b.item ? -1 : 1)).slice(0, limit);
  }

  #grow(): void {
    const n = Math.min(this.capacity, this.#heap.length * 2);
    const grown = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.#errors = grown(this.#errors, (k) => new Float64Array(k));
    this.#pos = grown(this.#pos, (k) => new Int32Array(k));
    this.#heap = grown(this.#heap, (k) => new Int32Array(k));
    this.#counts = grown(this.#counts, (k) => new Float64Array(k));
  }

  /** Moves the entry at i up while it counts less than its parent (as swapping would, without the swaps). */
  #up(i: number): void {
    const heap = this.#heap;
    const counts = this.#counts;
    const pos = this.#pos;
    const slot = heap[i]!;
    const count = counts[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!(count < counts[parent]!)) break;
      const p = heap[parent]!;
      heap[i] = p;
      counts[i] = counts[parent]!;
      pos[p] = i;
      i = parent;
    }
    heap[i] = slot;
    counts[i] = count;
    pos[slot] = i;
  }

  /** Moves the entry at i down while a child counts less (the lesser child, the left one on a tie). */
  #down(i: number): void {
    const heap = this.#heap;
    const counts = this.#counts;
    const pos = this.#pos;
    const n = this.#size;
    const slot = heap[i]!;
    const count = counts[i]!;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      let least = count;
      if (l < n && counts[l]! < least) {
        smallest = l;
        least = counts[l]!;
      }
      if (r < n && counts[r]! < least) smallest = r;
      if (smallest === i) break;
      const child = heap[smallest]!;
      heap[i] = child;
      counts[i] = counts[smallest]!;
      pos[child] = i;
      i = smallest;
    }
    heap[i] = slot;
    counts[i] = count;
    pos[slot] = i;
  }
}
