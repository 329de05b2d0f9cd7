import { describe, expect, it } from "vitest";
import { TenantRing } from "./tenant-ring.js";

const tenants = Array.from({ length: 3000 }, (_, i) => `tenant-${i}`);
const members = ["10.0.0.1:50051", "10.0.0.2:50051", "10.0.0.3:50051"];

function ringOf(self: string, live: readonly string[]): TenantRing {
  const r = new TenantRing(self);
  r.update(live);
  return r;
}

describe("TenantRing", () => {
  it("gives every replica the same owner for each tenant, whatever order it learned the members in", () => {
    const views = members.map((self, i) => ringOf(self, i === 1 ? [...members].reverse() : members));
    for (const t of tenants) {
      const owner = views[0]!.ownerOf(t);
      expect(views.map((v) => v.ownerOf(t))).toEqual([owner, owner, owner]);
      expect(views.filter((v) => v.owns(t))).toHaveLength(1);
    }
  });

  it("spreads tenants about evenly", () => {
    const ring = ringOf(members[0]!, members);
    const count = new Map<string, number>();
    for (const t of tenants) count.set(ring.ownerOf(t), (count.get(ring.ownerOf(t)) ?? 0) + 1);
    for (const m of members) expect(count.get(m)! / tenants.length).toBeGreaterThan(0.28);
  });

  it("moves only the tenants of a member that joins or leaves", () => {
    const before = ringOf(members[0]!, members);
    const after = ringOf(members[0]!, [...members, "10.0.0.4:50051"]);
    let moved = 0;
    for (const t of tenants) {
      if (before.ownerOf(t) === after.ownerOf(t)) continue;
      moved++;
      expect(after.ownerOf(t)).toBe("10.0.0.4:50051");
    }
    expect(moved / tenants.length).toBeGreaterThan(0.18);
    expect(moved / tenants.length).toBeLessThan(0.32);
    const left = ringOf(members[0]!, members.slice(0, 2));
    for (const t of tenants)
      if (before.ownerOf(t) !== members[2]) expect(left.ownerOf(t)).toBe(before.ownerOf(t));
  });

  it("always counts itself a member, and alone owns everything", () => {
    const ring = new TenantRing("a:1");
    expect(ring.solo).toBe(true);
    expect(ring.ownerOf("x")).toBe("a:1");
    expect(ring.update(["b:1"])).toBe(true);
    expect(ring.members).toEqual(["a:1", "b:1"]);
    expect(ring.peers).toEqual(["b:1"]);
    expect(ring.update(["b:1", "a:1"])).toBe(false);
    ring.update([]);
    expect(ring.members).toEqual(["a:1"]);
  });

  it("partitions items by owner, remembering each one's position", () => {
    const ring = ringOf("a:1", ["a:1", "b:1"]);
    const items = tenants.slice(0, 50).map((t, i) => ({ t, i }));
    const parts = ring.partition(items, (x) => x.t);
    let total = 0;
    for (const [owner, part] of parts) {
      total += part.items.length;
      part.items.forEach((item, j) => {
        expect(ring.ownerOf(item.t)).toBe(owner);
        expect(part.positions[j]).toBe(item.i);
      });
    }
    expect(total).toBe(50);
    expect(parts.size).toBe(2);
  });
});
