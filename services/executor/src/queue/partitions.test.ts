import { keySlot } from "@prescient/kit";
import { describe, expect, it } from "vitest";
import { partitionBases, partitionOfKey } from "./partitions.js";

/** The master of a slot under the even split `redis-cli --cluster create` makes of 16384 slots. */
const masterOf = (slot: number, masters: number): number => {
  const size = Math.ceil(16384 / masters);
  return Math.min(masters - 1, Math.floor(slot / size));
};

describe("partition tags", () => {
  it("keep partition 0's layout, and put N partitions on N different masters", () => {
    const prefixes = ["prescient:queue", "q", ...Array.from({ length: 200 }, (_, i) => `test-queue-${i}`)];
    for (const prefix of prefixes) {
      expect(partitionBases(prefix, 1)).toEqual([`{${prefix}}:`]);
      for (const n of [2, 3, 6]) {
        const bases = partitionBases(prefix, n);
        expect(bases[0]).toBe(`{${prefix}}:`);
        for (const b of bases.slice(1)) expect(b.startsWith(`{${prefix}#${n}.`)).toBe(true);
        const masters = new Set(bases.map((b) => masterOf(keySlot(b), n)));
        expect(masters.size, `${prefix} over ${n}`).toBe(n);
      }
    }
  });

  it("route a key to one partition, the same in every process", () => {
    expect(partitionOfKey("acme/ctr_prediction/ad-1", 1)).toBe(0);
    const p = partitionOfKey("acme/ctr_prediction/ad-1", 3);
    expect(p).toBe(partitionOfKey("acme/ctr_prediction/ad-1", 3));
    const seen = new Set(Array.from({ length: 60 }, (_, i) => partitionOfKey(`acme/t/e${i}`, 3)));
    expect(seen).toEqual(new Set([0, 1, 2]));
  });
});
