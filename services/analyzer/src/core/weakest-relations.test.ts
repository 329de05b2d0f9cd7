import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Ranked, WeakestRelations } from "./weakest-relations.js";

interface W extends Ranked {
  g: number;
}

/** The pass the list replaces: the first minimum in map (insertion) order. */
function firstMinimum(related: ReadonlyMap<string, W>): string | undefined {
  let weakest: string | undefined;
  let min = Number.POSITIVE_INFINITY;
  related.forEach((w, id) => {
    if (w.g < min) {
      min = w.g;
      weakest = id;
    }
  });
  return weakest;
}

type Op =
  | { kind: "add"; g: number }
  | { kind: "grow"; pick: number; by: number }
  | { kind: "evict" }
  | { kind: "rescale"; f: number };

// Small integer weights: ties are common, and they are where order matters.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("add" as const), g: fc.integer({ min: 1, max: 6 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("grow" as const),
      pick: fc.nat(),
      by: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("evict" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("rescale" as const), f: fc.constantFrom(0.5, 0.25) }),
  },
);

describe("WeakestRelations", () => {
  it("evicts exactly what a pass over the relations would, as weights grow, join and leave", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(opArb, { maxLength: 200 }), (size, ops) => {
        const related = new Map<string, W>();
        const weakest = new WeakestRelations<W>(size);
        let seq = 0;
        for (const op of ops) {
          if (op.kind === "add") {
            const w = { g: op.g, seq: seq++ };
            const id = `e${w.seq}`;
            related.set(id, w);
            weakest.added(id, w);
          } else if (op.kind === "grow") {
            const ids = [...related.keys()];
            if (ids.length === 0) continue;
            const w = related.get(ids[op.pick % ids.length]!)!;
            const was = w.g;
            w.g += op.by;
            weakest.grew(w, was);
          } else if (op.kind === "rescale") {
            for (const w of related.values()) w.g *= op.f;
            weakest.reset();
          } else {
            const expected = firstMinimum(related);
            const got = weakest.take(related);
            expect(got).toBe(expected);
            if (got !== undefined) related.delete(got);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("passes over the relations once per `size` evictions", () => {
    const related = new Map<string, W>();
    for (let i = 0; i < 32; i++) related.set(`e${i}`, { g: 100 - i, seq: i });
    let reads = 0;
    const counted = new Proxy(related, {
      get(target, p) {
        if (p === "forEach") reads++;
        const v = Reflect.get(target, p);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const weakest = new WeakestRelations<W>(8);
    const taken: string[] = [];
    for (let i = 0; i < 16; i++) {
      const id = weakest.take(counted)!;
      related.delete(id);
      taken.push(id);
    }
    expect(taken).toEqual(Array.from({ length: 16 }, (_, i) => `e${31 - i}`));
    expect(reads).toBe(2);
  });

  it("answers nothing for no relations, and recovers when the map changed behind it", () => {
    const related = new Map<string, W>();
    const weakest = new WeakestRelations<W>(4);
    expect(weakest.take(related)).toBeUndefined();
    related.set("a", { g: 1, seq: 0 });
    related.set("b", { g: 2, seq: 1 });
    expect(weakest.take(related)).toBe("a");
    related.delete("a");
    // "b" was deleted without the list being told: the next take looks again.
    related.delete("b");
    related.set("c", { g: 5, seq: 2 });
    expect(weakest.take(related)).toBe("c");
  });
});
