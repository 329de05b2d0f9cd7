const dayMs = 86_400_000;

/** The first instant at or after `from` whose UTC minute of the day is `minute`. */
export function nextDailyAt(from: number, minute: number): number {
  const t = Math.floor(from / dayMs) * dayMs + minute * 60_000;
  return t >= from ? t : t + dayMs;
}
