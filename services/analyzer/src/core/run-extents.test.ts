import { describe, expect, it } from "vitest";
import { extentBucket, RunExtents } from "./run-extents.js";

/** Runs that each start at extent 1 and grow one key at a time to `length`. */
function runs(extents: RunExtents, count: number, length: number): void {
  for (let i = 0; i < count; i++) {
    extents.started();
    for (let e = 1; e < length; e++) extents.grew(e, e + 1);
  }
}

describe("RunExtents", () => {
  it("counts extents up to 16 exactly and longer ones in half-doubling buckets, the last holding the rest", () => {
    for (let e = 0; e <= 16; e++) expect(extentBucket(e)).toBe(e);
    expect(extentBucket(22)).toBe(16);
    expect(extentBucket(23)).toBe(17);
    expect(extentBucket(32)).toBe(18);
    expect(extentBucket(65_536)).toBe(40);
    expect(extentBucket(1e12)).toBe(40);
    let previous = 0;
    for (let e = 1; e < 200_000; e = Math.ceil(e * 1.1)) {
      expect(extentBucket(e)).toBeGreaterThanOrEqual(previous);
      previous = extentBucket(e);
    }
  });

  it("answers the prior for a kind whose only run is the one asking", () => {
    const extents = new RunExtents(0.999);
    runs(extents, 1, 5);
    expect(extents.reach(5, 6, 0.8)).toBeCloseTo(0.8, 10);
    expect(extents.reach(5, 9, 0.8 ** 4)).toBeCloseTo(0.8 ** 4, 10);
    // Within one coarse bucket the asking run is left out at both ends.
    const long = new RunExtents(0.999);
    runs(long, 1, 24);
    expect(long.reach(24, 25, 0.9)).toBeCloseTo(0.9, 10);
  });

  it("learns where runs of a kind stop: nothing past a fixed-size chunk, all of it before", () => {
    const chunks = new RunExtents(0.999);
    runs(chunks, 100, 8);
    chunks.started(); // the asking run, at extent 4
    for (let e = 1; e < 4; e++) chunks.grew(e, e + 1);
    expect(chunks.reach(4, 8, 0.9 ** 4)).toBeGreaterThan(0.98);
    expect(chunks.reach(4, 9, 0.9 ** 5)).toBeLessThan(0.01);
    expect(chunks.reach(8, 9, 0.9)).toBeLessThan(0.01);
  });

  it("keeps long runs likely far ahead, and follows a change in how far runs go", () => {
    const files = new RunExtents(0.99);
    runs(files, 50, 2000);
    expect(files.reach(100, 1000, 0.9 ** 900)).toBeGreaterThan(0.95);
    // Runs now stop at 100: within a few hundred runs the old ones have faded.
    runs(files, 500, 100);
    expect(files.reach(100, 1000, 0.9 ** 900)).toBeLessThan(0.01);
  });
});
