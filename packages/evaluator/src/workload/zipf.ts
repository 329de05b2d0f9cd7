/**
 * Zipf popularity: rank r (1-based) of n drawn with probability ∝ r^(−s),
 * by binary search over the cumulative weights; and the estimate of s back
 * from samples, as the least-squares slope of log frequency on log rank over
 * the ranks that were seen often enough to count.
 */
export class ZipfSampler {
  readonly n: number;
  readonly exponent: number;
  readonly #cdf: Float64Array;

  constructor(n: number, exponent: number) {
    this.n = n;
    this.exponent = exponent;
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 1; r <= n; r++) {
      sum += r ** -exponent;
      this.#cdf[r - 1] = sum;
    }
    for (let i = 0; i < n; i++) this.#cdf[i]! /= sum;
  }

  /** A 0-based rank. */
  sample(random: () => number): number {
    const u = random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Fitted Zipf exponent of item counts, over ranks whose count is at least `minCount`. */
export function fitZipfExponent(counts: Iterable<number>, minCount = 5): number {
  const sorted = [...counts].filter((c) => c >= minCount).sort((a, b) => b - a);
  const n = sorted.length;
  if (n < 3) return Number.NaN;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const x = Math.log(i + 1);
    const y = Math.log(sorted[i]!);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  return -(n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/**
 * Amplitude of a daily cycle from hourly read counts: (peak − trough) /
 * (peak + trough) of the mean count per hour of the day, which is A for a
 * rate ∝ 1 + A·cos(…).
 */
export function dailyAmplitude(hourly: readonly number[]): number {
  const byHour = new Array<number>(24).fill(0);
  const days = new Array<number>(24).fill(0);
  hourly.forEach((c, i) => {
    byHour[i % 24]! += c;
    days[i % 24]!++;
  });
  const means = byHour.map((c, h) => c / Math.max(1, days[h]!));
  const peak = Math.max(...means);
  const trough = Math.min(...means);
  return peak + trough > 0 ? (peak - trough) / (peak + trough) : 0;
}
