import { describe, expect, it } from "vitest";
import { ExpiryIndex } from "./expiry-index.js";

const minute = 60_000;
const entry = (key: string, taskType: string, expiresAt: number, tenant = "acme") => ({
  key: `${tenant}/${taskType}/${key}`,
  tenant,
  taskType,
  entityId: key,
  expiresAt,
});

describe("ExpiryIndex", () => {
  it("offers each result once it is within its type's horizon, until it expires, then once as expired", () => {
    const index = new ExpiryIndex();
    index.stored(entry("a", "ctr", 60 * minute));
    index.stored(entry("b", "ctr", 10 * minute));
    index.stored(entry("d", "dash", 10 * minute));
    const horizon = (t: string) => (t === "ctr" ? 15 * minute : 5 * minute);
    // At 0: b is 10 min from expiry (ctr horizon 15) → due; d is 10 min away with a 5 min horizon → not yet.
    expect(index.nearExpiry(0, horizon).map((e) => e.entityId)).toEqual(["b"]);
    expect(index.nearExpiry(6 * minute, horizon).map((e) => e.entityId)).toEqual(["b", "d"]);
    // Expired: offered once without an expiry, then forgotten.
    expect(index.nearExpiry(11 * minute, horizon)).toEqual([
      { ...entry("b", "ctr", 0), expiresAt: undefined },
      { ...entry("d", "dash", 0), expiresAt: undefined },
    ]);
    expect(index.nearExpiry(12 * minute, horizon)).toEqual([]);
    expect(index.size).toBe(1);
  });

  it("drops replaced and removed results, and filters by type and tenant", () => {
    const index = new ExpiryIndex();
    const horizon = () => 10 * minute;
    index.stored(entry("a", "ctr", 5 * minute));
    index.stored(entry("a", "ctr", 60 * minute)); // refreshed: the old expiry must not surface
    index.stored(entry("b", "ctr", 5 * minute));
    index.removed("acme/ctr/b"); // evicted
    index.stored(entry("c", "ctr", 5 * minute, "globex"));
    index.stored(entry("e", "dash", 5 * minute));
    expect(index.nearExpiry(0, horizon).map((e) => e.key)).toEqual(["globex/ctr/c", "acme/dash/e"]);
    expect(index.nearExpiry(0, horizon, { tenant: "acme" }).map((e) => e.key)).toEqual(["acme/dash/e"]);
    expect(index.nearExpiry(0, horizon, { taskType: "ctr" }).map((e) => e.key)).toEqual(["globex/ctr/c"]);
  });

  it("keeps its heaps bounded by the live results under overwrites and removals, never calling nearExpiry", () => {
    const index = new ExpiryIndex();
    for (let i = 0; i < 200_000; i++) {
      index.stored(entry(`k${i % 1000}`, i % 2 === 0 ? "ctr" : "dash", 60 * minute + i));
      if (i % 3 === 0) index.removed(`acme/ctr/k${(i * 7) % 1000}`);
    }
    const { current, heapSlots, due } = index.sizes;
    expect(current).toBeLessThanOrEqual(1000);
    expect(heapSlots).toBeLessThanOrEqual(2 * current + 1024);
    expect(due).toBe(0);
    // Still right after rebuilds: every live result surfaces once its horizon comes.
    const offered = index.nearExpiry(60 * minute + 200_000, () => 0);
    expect(offered).toHaveLength(current);
    expect(index.sizes.heapSlots).toBe(0);
  });
});
