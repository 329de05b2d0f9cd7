import { InvalidArgumentError } from "@prescient/core";
import { Cron } from "croner";
import type { ScheduleSpec, ScheduleTiming } from "./config.js";
import type { OffPeak } from "./ports.js";

/**
 * Schedule windows. Every run belongs to one window of its schedule, and the
 * window names the run (`<schedule>@<window start, ISO>`), so that however
 * many replicas wake for the same window, the run store lets one claim it.
 *
 * - every: windows are aligned multiples of the interval since the epoch, so
 *   replicas agree without talking to each other;
 * - cron: from the latest fire time at or before now to the next one;
 * - off_peak: one window a day, the daily occurrence of the analyzer's
 *   off-peak window that contains now; outside it the schedule is not due.
 */
export interface ScheduleWindow {
  start: number;
  end: number;
}

const dayMs = 86_400_000;

/** Throws InvalidArgumentError when a cron pattern or its time zone is bad. */
export function validateCron(pattern: string, timeZone: string): void {
  try {
    const c = new Cron(pattern, { paused: true, timezone: timeZone });
    if (c.nextRun(new Date(0)) === null) throw new Error("it never fires");
    c.stop();
  } catch (e) {
    throw new InvalidArgumentError(`cron ${JSON.stringify(pattern)} (${timeZone}): ${(e as Error).message}`);
  }
}

export function cronWindow(pattern: string, timeZone: string, now: number): ScheduleWindow | undefined {
  const c = new Cron(pattern, { paused: true, timezone: timeZone });
  try {
    // previousRuns excludes its reference, so look from just after now: a fire at exactly now counts.
    const [previous] = c.previousRuns(1, new Date(now + 1));
    const next = c.nextRun(new Date(now));
    if (previous === undefined || next === null) return undefined;
    return { start: previous.getTime(), end: next.getTime() };
  } finally {
    c.stop();
  }
}

export function intervalWindow(everyMs: number, now: number): ScheduleWindow {
  const start = Math.floor(now / everyMs) * everyMs;
  return { start, end: start + everyMs };
}

/**
 * The daily occurrence of the off-peak window that contains now, if any.
 * `nextStart` is any occurrence (past or future) of the window's start; the
 * day's occurrence is found by whole days from it.
 */
export function offPeakWindow(offPeak: OffPeak, now: number): ScheduleWindow | undefined {
  const days = Math.ceil((offPeak.nextStart - now) / dayMs);
  const start = offPeak.nextStart - days * dayMs;
  const end = start + offPeak.durationMinutes * 60_000;
  return now >= start && now < end ? { start, end } : undefined;
}

/** The window now falls in, or undefined when the schedule is not due (off-peak, outside it). */
export function windowFor(
  timing: ScheduleTiming,
  now: number,
  offPeak?: OffPeak,
): ScheduleWindow | undefined {
  switch (timing.kind) {
    case "every":
      return intervalWindow(timing.everyMs, now);
    case "cron":
      return cronWindow(timing.cron, timing.timeZone, now);
    case "off_peak":
      return offPeak === undefined ? undefined : offPeakWindow(offPeak, now);
  }
}

/** The run key of a schedule's window. */
export function runKeyOf(schedule: string, windowStart: number): string {
  return `${schedule}@${isoTime(windowStart)}`;
}

const isoDate = { day: Number.NaN, text: "" };
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * `new Date(ms).toISOString()`, with the date part kept from the previous
 * call: a one-second schedule names a window every second, and formatting
 * the whole date each time was a visible share of its tick.
 */
export function isoTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
  const day = Math.floor(ms / dayMs);
  if (day !== isoDate.day) {
    isoDate.day = day;
    isoDate.text = new Date(day * dayMs).toISOString().slice(0, 11);
  }
  let t = ms - day * dayMs;
  const milli = t % 1000;
  t = (t - milli) / 1000;
  const sec = t % 60;
  t = (t - sec) / 60;
  const min = t % 60;
  return `${isoDate.text}${pad2((t - min) / 60)}:${pad2(min)}:${pad2(sec)}.${pad3(milli)}Z`;
}

/** A manual run (RunScheduleNow) gets a window of its own, so it never collides with a scheduled one. */
export function manualRunKey(schedule: string, now: number, nonce: string): string {
  return `${schedule}@manual-${new Date(now).toISOString()}-${nonce}`;
}

/** How often a runner should wake to check a schedule: its interval, its next cron fire, or its off-peak check period. */
export function nextWakeMs(spec: Pick<ScheduleSpec, "timing">, now: number): number {
  const t = spec.timing;
  switch (t.kind) {
    case "every":
      return intervalWindow(t.everyMs, now).end - now;
    case "cron": {
      const w = cronWindow(t.cron, t.timeZone, now);
      return w === undefined ? dayMs : Math.max(1, w.end - now);
    }
    case "off_peak":
      return intervalWindow(t.checkEveryMs, now).end - now;
  }
}
