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
});
