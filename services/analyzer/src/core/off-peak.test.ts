import { ManualClock, mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { coreAnalyzer, ingest, query } from "../analyzer.test-util.js";
import type { QueryEventInput } from "./events.js";
import { offsetMinutes } from "./time-zone.js";

const hour = 3_600_000;
const start = Date.UTC(2025, 0, 6); // a Monday, in winter (New York is UTC-5)
const tz = "America/New_York";

/** Diurnal traffic in New York local time: busy by day, quietest 03:00-06:00, quieter on weekends. */
function diurnal(days: number, seed: number): QueryEventInput[] {
  const random = mulberry32(seed);
  const events: QueryEventInput[] = [];
  for (let h = 0; h < days * 24; h++) {
    const t0 = start + h * hour;
    const local = new Date(t0 + offsetMinutes(tz, t0) * 60_000);
    const lh = local.getUTCHours();
    const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6;
    const shape = lh >= 3 && lh < 6 ? 0.05 : 0.5 + 0.5 * Math.sin(((lh - 9) / 24) * 2 * Math.PI) + 0.3;
    const n = Math.round(60 * shape * (weekend ? 0.7 : 1) * (0.8 + 0.4 * random()));
    for (let i = 0; i < n; i++)
      events.push(query(t0 + Math.floor(random() * hour), "acme", "ctr_prediction", `ad-${i % 50}`));
  }
  return events.sort((a, b) => a.time!.getTime() - b.time!.getTime());
}

describe("OffPeakWindow", () => {
  it("falls back to 02:00 in the requested zone while history is short, and says so", async () => {
    const clock = new ManualClock(start + 10 * hour);
    const analyzer = coreAnalyzer(clock);
    await ingest(analyzer, clock, diurnal(0.4, 1));
    const w = await analyzer.offPeakWindow({ durationMinutes: 240, timeZone: tz });
    expect(w.isDefault).toBe(true);
    expect(w.explanation).toMatch(/too little traffic history/);
    expect(w.startMinuteOfWeek % 1440).toBe(120);
    expect(w.nextStart).toBeGreaterThanOrEqual(clock.now() - 240 * 60_000);
    expect(new Date(w.nextStart + offsetMinutes(tz, w.nextStart) * 60_000).getUTCHours()).toBe(2);
  });

  it("finds the quiet night hours from a few days (daily) and from two weeks (weekly) of diurnal traffic", async () => {
    for (const days of [3, 14]) {
      const clock = new ManualClock(start);
      const analyzer = coreAnalyzer(clock);
      await ingest(analyzer, clock, diurnal(days, days));
      const w = await analyzer.offPeakWindow({ durationMinutes: 180, timeZone: tz });
      expect(w.isDefault).toBe(false);
      expect(w.explanation).toMatch(days < 7 ? /daily/ : /weekly/);
      expect(w.startMinuteOfWeek % 1440).toBe(180);
      expect(w.durationMinutes).toBe(180);
      expect(w.relativeLoad).toBeLessThan(0.2);
      expect(w.nextStart + 180 * 60_000).toBeGreaterThan(clock.now());
      // In UTC the same window starts at 08:00.
      const utc = await analyzer.offPeakWindow({ durationMinutes: 180, timeZone: "" });
      expect(utc.startMinuteOfWeek % 1440).toBe(8 * 60);
    }
  });

  it("rejects unknown zones and impossible durations", async () => {
    const analyzer = coreAnalyzer(new ManualClock(start));
    await expect(analyzer.offPeakWindow({ durationMinutes: 60, timeZone: "Mars/Olympus" })).rejects.toThrow(
      /IANA/,
    );
    await expect(analyzer.offPeakWindow({ durationMinutes: 20_000, timeZone: "" })).rejects.toThrow(
      /duration/,
    );
  });
});
