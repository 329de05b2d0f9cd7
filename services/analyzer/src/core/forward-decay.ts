/**
 * Forward decay (Cormode et al., 2009). An event at time t adds
 * e^{λ(t − L)} to a counter, for a landmark L; the decayed value at time now
 * is the stored sum × e^{−λ(now − L)}. Stored counters therefore only ever
 * grow by increments (HINCRBYFLOAT, ZINCRBY): decay needs no rewrite. The
 * landmark moves forward in fixed steps, so that the scale factors stay far
 * from overflow; when it moves, a store rescales once (rarely: every
 * `landmarkStepHalfLives` half-lives of the fastest counter).
 */

/** The decay rates of the analyzer's counter families, per millisecond. */
export interface DecayRates {
  /** Entity, tenant and task-type demand and type statistics. */
  demand: number;
  /**
   * Key demand: how often each result is read, which refresh-ahead turns into
   * the chance a refreshed result is read before it expires. Slower than
   * `demand`, at the scale of results' lives: with a 1-hour half-life a key
   * read every few hours looks cold by the time its 6-hour result expires.
   */
  keys: number;
  /** The hour-of-week traffic profile. */
  profile: number;
  /** Next-key successor counts. */
  successors: number;
}

export const rateOfHalfLife = (halfLifeMs: number): number => Math.LN2 / halfLifeMs;

/** 2^64 at most between rescales: doubles hold it exactly enough, and old events still underflow gracefully. */
const landmarkStepHalfLives = 64;

/** The landmark for time t: a multiple of a fixed step, so every replica agrees on it. */
export function landmarkFor(t: number, rates: DecayRates): number {
  const fastest = Math.max(rates.demand, rates.keys, rates.profile, rates.successors);
  const step = Math.max(1, Math.floor((landmarkStepHalfLives * Math.LN2) / fastest));
  return Math.floor(t / step) * step;
}

/** The weight an event at time t adds under landmark L. */
export const forwardWeight = (rate: number, t: number, landmark: number): number =>
  Math.exp(rate * (t - landmark));

/** Turns a stored (scaled) value into its decayed value at time now. */
export const decayedValue = (stored: number, rate: number, now: number, landmark: number): number =>
  stored * decayFactor(rate, now, landmark);

/** What decayedValue multiplies a stored value by: the same for every value under one landmark. */
export const decayFactor = (rate: number, now: number, landmark: number): number =>
  Math.exp(-rate * (now - landmark));

/**
 * The factor that moves values stored under landmark `from` to landmark `to`
 * (below 1 when the landmark moves forward).
 */
export const rescaleFactor = (rate: number, from: number, to: number): number =>
  Math.exp(-rate * (to - from));

/**
 * A decayed count expressed as a rate: with λ the decay rate, λ × Σ e^{−λ(now−tᵢ)}
 * estimates events per ms of a steady stream that has run for many
 * half-lives. Counts gathered for only `observedMs` hold 1 − e^{−λ·observed}
 * of that, so the estimate is divided by it (as an exponential average is
 * bias-corrected while it warms up): a freshly started analyzer, or a short
 * replay, would otherwise see every rate far too low, and its refreshes and
 * top-N would starve. Well past a few half-lives the correction vanishes; at
 * the start it tends to count / observed. Returned per second.
 */
export function ratePerSecond(decayedCount: number, rate: number, observedMs: number): number {
  return perSecond(decayedCount, rate, warmedShare(rate, observedMs));
}

/** The share of a steady stream's decayed count gathered in `observedMs` (see ratePerSecond). */
export const warmedShare = (rate: number, observedMs: number): number =>
  -Math.expm1(-rate * Math.max(1000, observedMs));

/** ratePerSecond with its warm-up share worked out once, for many counts at one time. */
export const perSecond = (decayedCount: number, rate: number, warmed: number): number =>
  (decayedCount * rate * 1000) / warmed;
