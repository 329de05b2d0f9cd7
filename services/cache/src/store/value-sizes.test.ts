import { describe, expect, it } from "vitest";
import { ValueSizes } from "./value-sizes.js";

describe("ValueSizes", () => {
  it("knows nothing of a type until one is written, then follows its sizes", () => {
    const sizes = new ValueSizes();
    expect(sizes.meanOf("thumbnail_generation")).toBeUndefined();
    sizes.observe("thumbnail_generation", 64 * 1024);
    expect(sizes.meanOf("thumbnail_generation")).toBe(64 * 1024);
    // A type whose results shrink is followed: each write moves the mean a sixteenth of the way.
    for (let i = 0; i < 80; i++) sizes.observe("thumbnail_generation", 100);
    expect(sizes.meanOf("thumbnail_generation")).toBeLessThan(1024);
    expect(sizes.meanOf("thumbnail_generation")).toBeGreaterThan(100);
  });

  it("tracks at most maxTypes types, keeping those it has", () => {
    const sizes = new ValueSizes(2);
    sizes.observe("a", 10);
    sizes.observe("b", 20);
    sizes.observe("c", 30);
    expect([sizes.meanOf("a"), sizes.meanOf("b"), sizes.meanOf("c")]).toEqual([10, 20, undefined]);
    sizes.observe("a", 26);
    expect(sizes.meanOf("a")).toBe(11);
  });
});
