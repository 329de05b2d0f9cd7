import { InvalidArgumentError } from "@prescient/core";

/**
 * Wall-clock arithmetic in IANA time zones with nothing but Intl: the local
 * fields of an instant, and the instant of a local time.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new InvalidArgumentError(
        `timezone ${JSON.stringify(timeZone.slice(0, 80))} is not an IANA time zone`,
      );
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Checks a time zone name; "" means UTC. */
export function resolveTimeZone(timeZone: string): string {
  const tz = timeZone === "" ? "UTC" : timeZone;
  formatter(tz);
  return tz;
}

/** Offset of the zone from UTC at instant t, in minutes (east positive). */
export function offsetMinutes(timeZone: string, t: number): number {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return Math.round((local - Math.floor(t / 1000) * 1000) / 60_000);
}

const weekMinutes = 7 * 1440;

/** Local minute of the week of instant t, 0 = Monday 00:00. */
export function localMinuteOfWeek(timeZone: string, t: number): number {
  const local = t + offsetMinutes(timeZone, t) * 60_000;
  // 1970-01-01 was a Thursday, three days after a Monday.
  const minutes = Math.floor(local / 60_000) + 3 * 1440;
  return ((minutes % weekMinutes) + weekMinutes) % weekMinutes;
}

/** The first instant at or after `from` whose local minute of day is `minuteOfDay`. */
export function nextLocalTime(timeZone: string, minuteOfDay: number, from: number): number {
  const offset = offsetMinutes(timeZone, from);
  const localDayStart = Math.floor((from + offset * 60_000) / 86_400_000) * 86_400_000;
  for (let day = -1; day <= 2; day++) {
    const localTarget = localDayStart + day * 86_400_000 + minuteOfDay * 60_000;
    // The offset at the target itself, which differs from `from`'s across a DST change.
    let t = localTarget - offset * 60_000;
    t = localTarget - offsetMinutes(timeZone, t) * 60_000;
    if (t >= from) return t;
  }
  return from;
}
