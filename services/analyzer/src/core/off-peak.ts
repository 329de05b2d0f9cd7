import type { ProfileRecord } from "../store/analyzer-store.js";
import { localMinuteOfWeek, nextLocalTime } from "./time-zone.js";

/**
 * The off-peak window: the quietest contiguous stretch of the week in the
 * time-decayed hour-of-week load profile. With a week of history it is a
 * weekly window; with at least a day but less than a week, the profile is
 * folded into hours of the day (unseen days add nothing to any hour, so the
 * daily shape is still right) and the window repeats daily. With less, the
 * configured default answers, and says so.
 */
export interface OffPeakSettings {
  /** Local minute of the day the default window starts (02:00 = 120). */
  defaultStartMinute: number;
  /** Events needed before the profile is trusted. */
  minEvents: number;
  /** History needed for a daily profile, and for a weekly one. */
  minDailyHistoryMs: number;
  minWeeklyHistoryMs: number;
}

export interface OffPeakWindow {
  /** Local minute of the week of the next occurrence's start, 0 = Monday 00:00. */
  startMinuteOfWeek: number;
  durationMinutes: number;
  nextStart: number;
  isDefault: boolean;
  explanation: string;
  /** Mean load in the window over the mean load of the profile; 1 for the default. */
  relativeLoad: number;
}

const hourMs = 3_600_000;
const weekMs = 7 * 24 * hourMs;
/** The Monday 00:00 UTC on or before t. */
const weekStart = (t: number): number => t - ((((t + 3 * 86_400_000) % weekMs) + weekMs) % weekMs);

/** Load of a window of `hours` (fractional) starting at bucket s, wrapping around. */
function windowLoad(loads: readonly number[], s: number, hours: number): number {
  let total = 0;
  let left = hours;
  for (let i = 0; left > 0; i++) {
    const part = Math.min(1, left);
    total += part * (loads[(s + i) % loads.length] ?? 0);
    left -= part;
  }
  return total;
}

export function findOffPeakWindow(
  profile: ProfileRecord,
  request: { durationMinutes: number; timeZone: string; now: number },
  settings: OffPeakSettings,
): OffPeakWindow {
  const { durationMinutes, timeZone, now } = request;
  const history = profile.firstTime === undefined ? 0 : now - profile.firstTime;
  if (profile.events < settings.minEvents || history < settings.minDailyHistoryMs) {
    // While we are inside today's default window, its current occurrence is the next one.
    const nextStart = nextLocalTime(timeZone, settings.defaultStartMinute, now - durationMinutes * 60_000);
    const hh = String(Math.floor(settings.defaultStartMinute / 60)).padStart(2, "0");
    const mm = String(settings.defaultStartMinute % 60).padStart(2, "0");
    return {
      startMinuteOfWeek: localMinuteOfWeek(timeZone, nextStart),
      durationMinutes,
      nextStart,
      isDefault: true,
      explanation: `too little traffic history (${profile.events} events over ${(history / hourMs).toFixed(1)} h; need ${settings.minEvents} events over ${settings.minDailyHistoryMs / hourMs} h): the default window at ${hh}:${mm} ${timeZone} daily`,
      relativeLoad: 1,
    };
  }
  const weekly = history >= settings.minWeeklyHistoryMs;
  const loads = weekly
    ? profile.hours
    : Array.from({ length: 24 }, (_, h) => {
        let sum = 0;
        for (let d = 0; d < 7; d++) sum += profile.hours[d * 24 + h] ?? 0;
        return sum;
      });
  const hours = Math.min(durationMinutes / 60, loads.length);
  let best = 0;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (let s = 0; s < loads.length; s++) {
    const load = windowLoad(loads, s, hours);
    // A relative tolerance, so that float noise does not pick a later of two equal windows.
    if (s === 0 || load < bestLoad * (1 - 1e-9)) {
      bestLoad = load;
      best = s;
    }
  }
  const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
  const period = weekly ? weekMs : 24 * hourMs;
  // Buckets are UTC hours; the next occurrence whose window has not ended yet.
  let nextStart = weekStart(now) + best * hourMs;
  while (nextStart + durationMinutes * 60_000 <= now) nextStart += period;
  while (nextStart - period + durationMinutes * 60_000 > now) nextStart -= period;
  return {
    startMinuteOfWeek: localMinuteOfWeek(timeZone, nextStart),
    durationMinutes,
    nextStart,
    isDefault: false,
    explanation: `quietest ${weekly ? "weekly" : "daily"} window from ${profile.events} events over ${(history / 86_400_000).toFixed(1)} days of history`,
    relativeLoad: mean > 0 ? bestLoad / hours / mean : 0,
  };
}
