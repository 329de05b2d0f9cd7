/**
 * The ticks of a chart's time axis, for a person to read: a round step
 * (15 min, 2 h, a day...) giving a handful of ticks, placed on round times.
 * A trace with real timestamps is labelled by weekday and time of day in
 * UTC ("Mon 06:00"), since daily and weekly cycles are what its reader
 * looks for; a trace whose clock starts near zero (positions, relative
 * seconds) by the time since its start ("+2 h"), since its dates would be
 * 1970's.
 */
export interface TimeTick {
  at: number;
  label: string;
}

export interface TimeAxis {
  ticks: TimeTick[];
  title: string;
}

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;
const week = 7 * day;
const steps = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  second,
  2 * second,
  5 * second,
  10 * second,
  15 * second,
  30 * second,
  minute,
  2 * minute,
  5 * minute,
  10 * minute,
  15 * minute,
  30 * minute,
  hour,
  2 * hour,
  3 * hour,
  6 * hour,
  12 * hour,
  day,
  2 * day,
  week,
  2 * week,
  4 * week,
];
/** Earlier times are taken as a clock that starts near zero, not as dates. */
const wallClockFrom = Date.UTC(2000, 0, 1);
/** A Monday, 00:00 UTC: week ticks fall on Mondays. */
const monday = Date.UTC(1970, 0, 5);
const weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number): string => String(n).padStart(2, "0");

function stepFor(span: number, target: number): number {
  for (const s of steps) if (span / s <= target) return s;
  return Math.ceil(span / target / (4 * week)) * 4 * week;
}

function clockLabel(t: number, step: number, manyDays: boolean): string {
  const d = new Date(t);
  const date = `${weekdays[d.getUTCDay()]} ${d.getUTCDate()} ${months[d.getUTCMonth()]}`;
  if (step >= day) return date;
  let time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  if (step < minute) time += `:${two(d.getUTCSeconds())}`;
  if (step < second) time += `.${String(d.getUTCMilliseconds()).padStart(3, "0")}`;
  return manyDays ? `${weekdays[d.getUTCDay()]} ${time}` : time;
}

/** "+1 d 6 h", "+30 min", "+2.5 s": the largest two units, as a person would say it. */
export function elapsedLabel(ms: number): string {
  if (ms === 0) return "0";
  if (ms < second) return `+${ms} ms`;
  if (ms < minute) return `+${Number((ms / second).toFixed(3))} s`;
  const units: Array<[number, string]> = [
    [day, "d"],
    [hour, "h"],
    [minute, "min"],
    [second, "s"],
  ];
  const i = units.findIndex(([size]) => ms >= size);
  const [size, name] = units[i]!;
  const n = Math.floor(ms / size);
  const next = units[i + 1];
  const rest = next === undefined ? 0 : Math.floor((ms - n * size) / next[0]);
  return `+${n} ${name}${rest > 0 && next !== undefined ? ` ${rest} ${next[1]}` : ""}`;
}

/** Ticks from `startMs` to `endMs`, about `target` of them (at least two where the span allows). */
export function timeAxis(startMs: number, endMs: number, target = 8): TimeAxis {
  const span = Math.max(1, endMs - startMs);
  const step = stepFor(span, target);
  const ticks: TimeTick[] = [];
  if (startMs < wallClockFrom) {
    for (let k = 0; startMs + k * step <= endMs; k++)
      ticks.push({ at: startMs + k * step, label: elapsedLabel(k * step) });
    return { ticks, title: "time since the trace's start" };
  }
  const origin = step >= week ? monday : 0;
  const first = origin + Math.ceil((startMs - origin) / step) * step;
  const manyDays = Math.floor(startMs / day) !== Math.floor(endMs / day);
  for (let t = first; t <= endMs; t += step) ticks.push({ at: t, label: clockLabel(t, step, manyDays) });
  const d = new Date(startMs);
  return {
    ticks,
    title: `time (UTC) from ${weekdays[d.getUTCDay()]} ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`,
  };
}
