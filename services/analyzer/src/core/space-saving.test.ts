import { mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { type HeavyHitter, SpaceSaving } from "./space-saving.js";

/**
 * The sketch as first written (a heap of objects, an index map, swaps): the
 * typed-array heap must count, evict and order exactly as it does.
 */
class ReferenceSpaceSaving {
  readonly #heap: HeavyHitter[] = [];
  readonly #index = new Map<string, number>();
  constructor(readonly capacity: number) {}
  get size(): number {
    return this.#heap.length;
  }
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
    this.#index.delete(min.item);
    this.#heap[0] = { item, count: min.count + weight, error: min.count };
    this.#index.set(item, 0);
    this.#down(0);
    return min.item;
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
  scale(factor: number): void {
    for (const h of this.#heap) {
      h.count *= factor;
      h.error *= factor;
    }
  }
  top(limit = this.capacity): HeavyHitter[] {
    return [...this.#heap]
      .sort((a, b) => b.count - a.count || (a.item < b.item ? -1 : 1))
      .slice(0, limit)
      .map((h) => ({ ...h }));
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
      if (!(this.#heap[i]!.count < this.#heap[parent]!.count)) return;
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
      if (l < n && this.#heap[l]!.count < this.#heap[smallest]!.count) smallest = l;
      if (r < n && this.#heap[r]!.count < this.#heap[smallest]!.count) smallest = r;
      if (smallest === i) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }
}

describe("SpaceSaving", () => {
  it("keeps heavy hitters and bounds the error by the evicted count", () => {
    const s = new SpaceSaving(2);
    s.add("a", 5);
    s.add("b", 3);
    expect(s.add("c", 1)).toBe("b");
    expect(s.get("c")).toEqual({ item: "c", count: 4, error: 3 });
    expect(s.count("c")).toBe(4);
    expect(s.count("b")).toBeUndefined();
    expect(s.top()).toEqual([
      { item: "a", count: 5, error: 0 },
      { item: "c", count: 4, error: 3 },
    ]);
  });

  for (const capacity of [1, 3, 64, 200])
    it(`counts, evicts and ranks exactly as the object heap did (capacity ${capacity})`, () => {
      const random = mulberry32(capacity);
      const s = new SpaceSaving(capacity);
      const ref = new ReferenceSpaceSaving(capacity);
      // Few distinct weights, so ties between counts are common.
      const weights = [0, 0.5, 1, 1, 2, 3.25, 1e-9, 1e6];
      for (let step = 0; step < 20_000; step++) {
        const item = `k${Math.floor(random() ** 2 * capacity * 3)}`;
        const op = random();
        if (op < 0.85) {
          const w = weights[Math.floor(random() * weights.length)]! * (1 + step / 1000);
          expect(s.add(item, w)).toBe(ref.add(item, w));
        } else if (op < 0.95) expect(s.delete(item)).toBe(ref.delete(item));
        else if (op < 0.97) {
          const f = 0.25 + random();
          s.scale(f);
          ref.scale(f);
        } else expect(s.get(item)).toEqual(ref.get(item));
        expect(s.size).toBe(ref.size);
        if (step % 500 === 0) expect(s.top()).toEqual(ref.top());
      }
      expect(s.top(10)).toEqual(ref.top(10));
      expect(s.top()).toEqual(ref.top());
    });
});
