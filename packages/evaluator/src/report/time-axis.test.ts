import { describe, expect, it } from "vitest";
import { elapsedLabel, timeAxis } from "./time-axis.js";

const monday = Date.UTC(2024, 0, 1);
const hour = 3_600_000;
const labels = (a: number, b: number): string[] => timeAxis(a, b, 9).ticks.map((t) => t.label);

describe("time axis", () => {
  it("labels a day of a dated trace by weekday and hour, on round hours", () => {
    expect(labels(monday + 6165, monday + 24 * hour + 6165)).toEqual([
      "Mon 03:00",
      "Mon 06:00",
      "Mon 09:00",
      "Mon 12:00",
      "Mon 15:00",
      "Mon 18:00",
      "Mon 21:00",
      "Tue 00:00",
    ]);
    expect(timeAxis(monday, monday + 24 * hour).title).toBe("time (UTC) from Mon 1 Jan 2024");
  });

  it("labels days by date, weeks on Mondays, and an hour within one day by time alone", () => {
    expect(labels(monday, monday + 7 * 24 * hour)).toEqual([
      "Mon 1 Jan",
      "Tue 2 Jan",
      "Wed 3 Jan",
      "Thu 4 Jan",
      "Fri 5 Jan",
      "Sat 6 Jan",
      "Sun 7 Jan",
      "Mon 8 Jan",
    ]);
    expect(labels(monday + 12 * hour, monday + 40 * 24 * hour)).toEqual([
      "Mon 8 Jan",
      "Mon 15 Jan",
      "Mon 22 Jan",
      "Mon 29 Jan",
      "Mon 5 Feb",
    ]);
    expect(labels(monday + 5.5 * hour, monday + 6.25 * hour)).toEqual([
      "05:30",
      "05:35",
      "05:40",
      "05:45",
      "05:50",
      "05:55",
      "06:00",
      "06:05",
      "06:10",
      "06:15",
    ]);
  });

  it("labels a clock that starts at zero by the time since the start", () => {
    const a = timeAxis(0, 30 * hour, 9);
    expect(a.title).toBe("time since the trace's start");
    expect(a.ticks.map((t) => t.label)).toEqual(["0", "+6 h", "+12 h", "+18 h", "+1 d", "+1 d 6 h"]);
    expect(labels(0, 500)).toEqual(["0", "+100 ms", "+200 ms", "+300 ms", "+400 ms", "+500 ms"]);
  });

  it("never gives ISO timestamps, and always a few ticks", () => {
    for (const span of [1, 10, 999, 60_000, hour, 25 * hour, 9 * 24 * hour, 400 * 24 * hour]) {
      for (const start of [0, monday + 1234]) {
        const t = timeAxis(start, start + span, 9).ticks;
        expect(t.length, `${start}+${span}`).toBeGreaterThanOrEqual(2);
        expect(t.length, `${start}+${span}`).toBeLessThanOrEqual(10);
        for (const x of t) {
          expect(x.at).toBeGreaterThanOrEqual(start);
          expect(x.at).toBeLessThanOrEqual(start + span);
          expect(x.label).not.toMatch(/\d{4}-\d{2}-\d{2}|Z$/);
        }
      }
    }
  });

  it("says elapsed times with their largest two units", () => {
    expect([0, 1500, 90_000, hour, 1.5 * hour, 30 * hour].map(elapsedLabel)).toEqual([
      "0",
      "+1.5 s",
      "+1 min 30 s",
      "+1 h",
      "+1 h 30 min",
      "+1 d 6 h",
    ]);
  });
});
