import { describe, expect, it } from "vitest";
import { MinHeap } from "./min-heap.js";
import { mulberry32 } from "./rng.js";

describe("MinHeap", () => {
  it("pops in order, ties in the order the comparator gives", () => {
    const random = mulberry32(3);
    const heap = new MinHeap<{ t: number; seq: number }>(
      (a, b) => a.t < b.t || (a.t === b.t && a.seq < b.seq),
    );
    const items = Array.from({ length: 500 }, (_, seq) => ({ t: Math.floor(random() * 50), seq }));
    for (const x of items) heap.push(x);
    expect(heap.size).toBe(500);
    const out: Array<{ t: number; seq: number }> = [];
    for (let x = heap.pop(); x !== undefined; x = heap.pop()) out.push(x);
    expect(out).toEqual([...items].sort((a, b) => a.t - b.t || a.seq - b.seq));
    expect(heap.peek()).toBeUndefined();
    expect(heap.size).toBe(0);
  });
});
