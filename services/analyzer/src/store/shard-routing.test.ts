import { describe, expect, it } from "vitest";
import { hashTagOf, keySlot, memberHash, shardOf, shardPrefixes } from "./shard-routing.js";

describe("shard routing", () => {
  it("computes Redis Cluster slots as Redis does (CRC16 of the hash tag)", () => {
    // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
    expect(keySlot("123456789")).toBe(0x31c3);
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
    expect(hashTagOf("a{}b{c}")).toBeUndefined();
    expect(hashTagOf("p:{analyzer}:keys")).toBe("analyzer");
  });

  it("keeps one shard on today's prefix", () => {
    expect(shardPrefixes("prescient:{analyzer}:", 1)).toEqual(["prescient:{analyzer}:"]);
    expect(shardOf("anything", 1)).toBe(0);
  });

  it("gives each shard its own tag, in the middle of its share of slots", () => {
    for (const n of [2, 3, 4, 8, 64]) {
      const prefixes = shardPrefixes("prescient:{analyzer}:", n);
      expect(new Set(prefixes).size).toBe(n);
      prefixes.forEach((p, i) => {
        expect(p).toMatch(new RegExp(`^prescient:\\{analyzer-${n}\\.${i}\\.\\d+\\}:$`));
        expect(Math.abs(keySlot(`${p}keys`) - ((i + 0.5) * 16384) / n)).toBeLessThanOrEqual(16384 / n / 8);
      });
    }
    // Under the even split of 3 masters, 3 or 4 shards touch every master.
    const master = (slot: number) => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
    for (const n of [3, 4])
      expect(new Set(shardPrefixes("prescient:{analyzer}:", n).map((p) => master(keySlot(p))))).toEqual(
        new Set([0, 1, 2]),
      );
    expect(shardPrefixes("x:", 2)[1]).toMatch(/^x:\{analyzer-2\.1\.\d+\}:$/);
  });

  it("routes members evenly", () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[shardOf(`acme/ctr/e-${i}`, 4)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(memberHash("a")).toBe(0xe40c292c);
  });
});
