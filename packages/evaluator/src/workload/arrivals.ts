/**
 * Arrival times of a non-homogeneous Poisson process, by thinning: rate(t) =
 * base × (1 + A·cos(2π(h − peakHour)/24)) × (weekend factor on Saturday and
 * Sunday), so the daily amplitude is A and the trough falls 12 h after the peak.
 */
export interface CycleSpec {
  /** Mean events per second. */
  perSecond: number;
  /** Daily amplitude A, 0 to 1. */
  amplitude: number;
  /** Hour of the day (UTC) of the peak. */
  peakHour: number;
  /** Rate multiplier on weekends (1: no weekly cycle). */
  weekend: number;
}

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

export function rateAt(t: number, c: CycleSpec): number {
  const h = (t % dayMs) / hourMs;
  const day = (Math.floor(t / dayMs) + 4) % 7; // 1970-01-01 was a Thursday: 0 = Sunday
  const week = day === 0 || day === 6 ? c.weekend : 1;
  return c.perSecond * (1 + c.amplitude * Math.cos((2 * Math.PI * (h - c.peakHour)) / 24)) * week;
}

export function* arrivals(start: number, end: number, c: CycleSpec, random: () => number): Generator<number> {
  const max = c.perSecond * (1 + c.amplitude) * Math.max(1, c.weekend);
  if (max <= 0) return;
  let t = start;
  for (;;) {
    t += (-Math.log(1 - random()) / max) * 1000;
    if (t >= end) return;
    if (random() * max < rateAt(t, c)) yield t;
  }
}
