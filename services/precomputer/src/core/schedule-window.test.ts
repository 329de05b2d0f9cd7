import { mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { isoTime, runKeyOf } from "./schedule-window.js";

describe("run keys", () => {
  it("name the window by its start, as Date's ISO form", () => {
    expect(runKeyOf("readahead", Date.parse("2024-01-01T00:00:01Z"))).toBe(
      "readahead@2024-01-01T00:00:01.000Z",
    );
  });

  it("format every time as toISOString does, across days and edge values", () => {
    const edges = [
      0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 86_399_999, 86_400_000, 951_782_400_000, 951_868_799_999,
      253_402_300_799_999, 253_402_300_800_000, -1, -86_400_001, 1.5, 8.64e15,
    ];
    for (const t of edges) expect(isoTime(t), String(t)).toBe(new Date(t).toISOString());
    const random = mulberry32(3);
    let t = Date.parse("2024-02-28T23:59:58Z");
    for (let i = 0; i < 20_000; i++) {
      // Mostly a second on (a one-second schedule), sometimes a jump anywhere.
      t = random() < 0.9 ? t + 1000 : Math.floor(random() * 253_402_300_800_000);
      expect(isoTime(t)).toBe(new Date(t).toISOString());
    }
    // Invalid times fail as Date fails.
    for (const bad of [Number.NaN, Number.MAX_SAFE_INTEGER]) expect(() => isoTime(bad)).toThrow(RangeError);
  });
});
