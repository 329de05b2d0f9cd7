/**
 * The hit-rate difference of two arms with a confidence interval. Reads of
 * one unit (key or user) are correlated, so the variance of each arm's hit
 * rate is the cluster-robust (delta-method) one over units, not the binomial
 * one over reads, which would overstate significance.
 */
export interface ArmStats {
  policy: string;
  reads: number;
  hits: number;
  units: number;
  hitRate: number;
  standardError: number;
}

export interface AbResult {
  split: "key" | "user";
  arms: [ArmStats, ArmStats];
  /** Second arm's hit rate minus the first's. */
  difference: number;
  ci95: [number, number];
  z: number;
  pValue: number;
  significant: boolean;
}

export class ArmAccumulator {
  readonly #units = new Map<string, [number, number]>();

  add(unit: string, hit: boolean): void {
    let u = this.#units.get(unit);
    if (u === undefined) {
      u = [0, 0];
      this.#units.set(unit, u);
    }
    u[0]++;
    if (hit) u[1]++;
  }

  stats(policy: string): ArmStats {
    let reads = 0;
    let hits = 0;
    for (const [n, h] of this.#units.values()) {
      reads += n;
      hits += h;
    }
    const p = reads > 0 ? hits / reads : 0;
    const m = this.#units.size;
    let ss = 0;
    for (const [n, h] of this.#units.values()) ss += (h - p * n) ** 2;
    const variance = m > 1 && reads > 0 ? (ss / (reads * reads)) * (m / (m - 1)) : 0;
    return { policy, reads, hits, units: m, hitRate: p, standardError: Math.sqrt(variance) };
  }
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26 on erf; |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export function compareArms(split: "key" | "user", a: ArmStats, b: ArmStats): AbResult {
  const difference = b.hitRate - a.hitRate;
  const se = Math.sqrt(a.standardError ** 2 + b.standardError ** 2);
  const z =
    se > 0 ? difference / se : difference === 0 ? 0 : Number.POSITIVE_INFINITY * Math.sign(difference);
  const pValue = Number.isFinite(z) ? 2 * (1 - normalCdf(Math.abs(z))) : 0;
  return {
    split,
    arms: [a, b],
    difference,
    ci95: [difference - 1.96 * se, difference + 1.96 * se],
    z: Number.isFinite(z) ? z : 1e9 * Math.sign(z),
    pValue,
    significant: pValue < 0.05,
  };
}
