import { describe, expect, it } from "vitest";
import { fnv1a, hashTagOf, keySlot, tagNearSlot } from "./redis-slots.js";

describe("redis slots", () => {
  it("compute slots as Redis does (CLUSTER KEYSLOT), hash tags included", () => {
    expect(keySlot("123456789")).toBe(0x31c3);
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
    expect(keySlot("foo{}{bar}")).toBe(keySlot("foo{}{bar}"));
    expect(hashTagOf("foo{}{bar}")).toBeUndefined();
    expect(hashTagOf("a:{q#3.1.7}:b")).toBe("q#3.1.7");
  });

  it("find a tag near any slot, wrapping around the ends", () => {
    for (const target of [0, 100, 8191, 16383]) {
      const tag = tagNearSlot("base", target, 4096);
      const d = Math.abs(keySlot(tag) - target);
      expect(Math.min(d, 16384 - d)).toBeLessThanOrEqual(512);
      expect(tag).toMatch(/^base\.\d+$/);
    }
    expect(fnv1a("a")).toBe(0xe40c292c);
  });
});
