import { TaskTypeRegistry } from "@prescient/core";
import { parsePrecomputerConfig } from "@prescient/precomputer";
import { describe, expect, it } from "vitest";
import { RefreshSource } from "./refresh-source.js";

const hour = 3_600_000;
const settings = parsePrecomputerConfig({}, new TaskTypeRegistry([])).refreshAhead;
const spec = { taskType: undefined, tenant: undefined } as never;
const key = (id: string) => ({ key: `t/dash/${id}`, tenant: "t", taskType: "dash", entityId: id });

describe("RefreshSource", () => {
  it("ranks a key still read near expiry above one whose reads were a burst at the start", () => {
    const src = new RefreshSource(settings, 0.25);
    // Both keys are read 6 times in their result's hour: "burst" in its first minute, "steady" every 10 min.
    for (let i = 0; i < 6; i++) {
      src.read("t/dash/burst", i * 10_000, hour);
      src.read("t/dash/steady", i * 10 * 60_000, hour);
    }
    src.stored(key("burst"), hour, hour);
    src.stored(key("steady"), hour, hour);
    const now = hour - 5 * 60_000;
    const [first, second] = src.candidates(now, spec);
    expect(first?.key).toBe("t/dash/steady");
    expect(second?.key).toBe("t/dash/burst");
    // Half-life 15 min: the burst weighs 6 × 2^-3.6 ≈ 0.5 now, the steady reads Σ 2^-(age/15 min) ≈ 2.
    expect(first!.demand).toBeGreaterThan(3 * second!.demand);
    // A steady stream's decayed rate approximates its rate (6 per hour here).
    expect(first!.demand * 3600).toBeGreaterThan(3);
    expect(first!.demand * 3600).toBeLessThan(12);
  });

  it("offers only results within their refresh horizon, and an expired one once", () => {
    const src = new RefreshSource(settings, 0.25);
    src.read("t/dash/a", 0, hour);
    src.stored(key("a"), hour, hour);
    expect(src.candidates(hour / 2, spec)).toEqual([]);
    const near = src.candidates(hour - 60_000, spec);
    expect(near.map((c) => c.key)).toEqual(["t/dash/a"]);
    expect(near[0]?.expiresAt).toBe(hour);
    const expired = src.candidates(hour + 1, spec);
    expect(expired[0]?.expiresAt).toBeUndefined();
    expect(src.candidates(hour + 2, spec)).toEqual([]);
  });

  it("refuses a half-life fraction that is not positive", () => {
    expect(() => new RefreshSource(settings, 0)).toThrow(/half-life/);
  });
});
