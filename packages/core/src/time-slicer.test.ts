import { describe, expect, it } from "vitest";
import { mapInSlices, TimeSlicer } from "./time-slicer.js";

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe("TimeSlicer", () => {
  it("lets timers run between slices of a long loop, and keeps the results in order", async () => {
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const out = await mapInSlices(
      Array.from({ length: 40 }, (_, i) => i),
      (i) => {
        busy(1);
        return i * 2;
      },
      new TimeSlicer(5),
    );
    clearInterval(timer);
    expect(out).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    expect(turns).toBeGreaterThanOrEqual(4);
  });

  it("does not yield inside a slice", async () => {
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    await mapInSlices([1, 2, 3], (i) => i, new TimeSlicer(1_000));
    clearInterval(timer);
    expect(turns).toBe(0);
  });
});

describe("mapInSlices", () => {
  it("runs a batch within its slice without giving up even a microtask turn", async () => {
    const order: string[] = [];
    const mapped = mapInSlices(
      [1, 2, 3],
      (i) => {
        order.push(`item ${i}`);
        return i;
      },
      new TimeSlicer(1_000),
    );
    void Promise.resolve().then(() => order.push("microtask"));
    await mapped;
    expect(order).toEqual(["item 1", "item 2", "item 3", "microtask"]);
  });
});
