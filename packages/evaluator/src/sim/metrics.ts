import { type CalibrationBin, CalibrationCollector } from "./calibration.js";

/**
 * What one policy did over a replay. Counters are gathered in the run and
 * turned into rates once, in `summarize`, so every report (table, JSON,
 * HTML, A/B) reads the same numbers.
 */
export const computeReasons = [
  "miss",
  "trigger",
  "schedule",
  "launch",
  "predicted",
  "refresh",
  "oracle",
] as const;
export type ComputeReason = (typeof computeReasons)[number];
/** Reasons whose computes run ahead of any read: the prefetches. */
export const isAhead = (r: ComputeReason): boolean => r !== "miss";

export type ReadClass = "first" | "after-expiry" | "repeat";

export interface HitCount {
  reads: number;
  hits: number;
}

interface ReasonCount {
  computes: number;
  /** Results read at least once while fresh. */
  used: number;
  /** Results that expired (or were replaced) unread. */
  wasted: number;
  /** Fresh hits served by results of this reason. */
  hits: number;
  /** Reads that found this reason's compute still running. */
  late: number;
}

const hc = (): HitCount => ({ reads: 0, hits: 0 });
const rc = (): ReasonCount => ({ computes: 0, used: 0, wasted: 0, hits: 0, late: 0 });

export class MetricsCollector {
  reads = 0;
  hits = 0;
  stale = 0;
  misses = 0;
  stalenessMsSum = 0;
  latencySavedMs = 0;
  latencyTotalMs = 0;
  readonly byType = new Map<string, HitCount>();
  readonly byClass: Record<ReadClass, HitCount> = { first: hc(), "after-expiry": hc(), repeat: hc() };
  /** Reads out of any online policy's reach (ReadClassifier.outOfReach), and hits on them. */
  readonly outOfReach: HitCount = hc();
  /** First reads of keys whose entity nothing named before (ReadClassifier.unnamed), and hits on them. */
  readonly unnamed: HitCount = hc();
  readonly byReason = new Map<ComputeReason, ReasonCount>();
  /** The probabilities ahead computes carried, against whether their results were read. */
  readonly calibration = new CalibrationCollector();
  /** Unread results still fresh at the end: neither used nor wasted yet. */
  pending = 0;
  /** Of those, results computed ahead of time. */
  pendingAhead = 0;
  readonly binReads: number[];
  readonly binHits: number[];
  readonly #start: number;
  readonly #binMs: number;

  constructor(startMs: number, endMs: number, bins: number) {
    this.#start = startMs;
    this.#binMs = Math.max(1, (endMs - startMs + 1) / bins);
    this.binReads = new Array<number>(bins).fill(0);
    this.binHits = new Array<number>(bins).fill(0);
  }

  reason(r: ComputeReason): ReasonCount {
    let c = this.byReason.get(r);
    if (c === undefined) {
      c = rc();
      this.byReason.set(r, c);
    }
    return c;
  }

  /** One read: outcome, and the latency it saved against computing on demand. */
  read(
    time: number,
    type: string,
    cls: ReadClass,
    outcome: "hit" | "stale" | "miss",
    latencyMs: number,
    savedMs: number,
  ): void {
    this.reads++;
    this.latencyTotalMs += latencyMs;
    this.latencySavedMs += savedMs;
    let t = this.byType.get(type);
    if (t === undefined) {
      t = hc();
      this.byType.set(type, t);
    }
    t.reads++;
    const c = this.byClass[cls];
    c.reads++;
    const bin = Math.min(
      this.binReads.length - 1,
      Math.max(0, Math.floor((time - this.#start) / this.#binMs)),
    );
    this.binReads[bin]!++;
    if (outcome === "hit") {
      this.hits++;
      t.hits++;
      c.hits++;
      this.binHits[bin]!++;
    } else if (outcome === "stale") this.stale++;
    else this.misses++;
  }
}

export interface RateCount {
  reads: number;
  hits: number;
  hitRate: number;
}

export interface ReasonSummary extends ReasonCount {
  /** Share of all fresh hits served by this reason's results. */
  hitShare: number;
}

export interface PolicyMetrics {
  policy: string;
  reads: number;
  hits: number;
  hitRate: number;
  staleServed: number;
  /** Mean time past expiry of the stale results served, ms. */
  meanStalenessMs: number;
  misses: number;
  byType: Record<string, RateCount>;
  byReason: Record<string, ReasonSummary>;
  /** Per reason and tenth of probability: the probabilities ahead computes carried against the share read. */
  calibration: CalibrationBin[];
  firstReads: RateCount;
  afterExpiryReads: RateCount;
  /**
   * First reads of keys nothing named before their instant (no earlier read
   * of their run, no event of their entity: the pages of a block's first
   * request) and their reads while that first compute runs, and the hits
   * on them: out of reach of any policy that learns from what came before;
   * only the oracle hits them.
   */
  outOfReachReads: RateCount;
  /**
   * First reads of keys whose entity nothing named before their instant (no
   * event of it, no read of it of any type), and the hits on them. Wider
   * than `outOfReachReads`: a later page of a block read before is out of
   * reach here, though readahead can guess it from the numbering. Where
   * key numbers carry no order, only the oracle hits these.
   */
  unnamedReads: RateCount;
  computes: { total: number; demand: number; ahead: number; wasted: number; pending: number };
  /** Results never read before they expired, over computes that resolved (used or wasted). */
  waste: number;
  budget: { perSecond: number; tokens: number; used: number; refused: number; utilisation: number };
  latencySavedMs: number;
  /** Share of the on-demand latency saved (0 for `none`, 1 if every read hit). */
  latencySavedShare: number;
  prefetch: {
    issued: number;
    useful: number;
    late: number;
    accuracy: number;
    coverage: number;
    timeliness: number;
  };
  /** Hit rate per time bin (NaN-free: bins without reads report null). */
  series: Array<number | null>;
}

const rate = (n: number, d: number): number => (d > 0 ? n / d : 0);
const rateCount = (c: HitCount): RateCount => ({ ...c, hitRate: rate(c.hits, c.reads) });

export function summarize(
  policy: string,
  m: MetricsCollector,
  budget: { perSecond: number; tokens: number; used: number; refused: number },
): PolicyMetrics {
  let total = 0;
  let demand = 0;
  let wasted = 0;
  let issued = 0;
  let useful = 0;
  let late = 0;
  let aheadHits = 0;
  const byReason: Record<string, ReasonSummary> = {};
  for (const [r, c] of [...m.byReason].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    total += c.computes;
    wasted += c.wasted;
    if (r === "miss") demand += c.computes;
    else {
      issued += c.computes;
      useful += c.used;
      late += c.late;
      aheadHits += c.hits;
    }
    byReason[r] = { ...c, hitShare: rate(c.hits, m.hits) };
  }
  const resolved = total - m.pending;
  return {
    policy,
    reads: m.reads,
    hits: m.hits,
    hitRate: rate(m.hits, m.reads),
    staleServed: m.stale,
    meanStalenessMs: rate(m.stalenessMsSum, m.stale),
    misses: m.misses,
    byType: Object.fromEntries(
      [...m.byType].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([t, c]) => [t, rateCount(c)]),
    ),
    byReason,
    calibration: m.calibration.bins(),
    firstReads: rateCount(m.byClass.first),
    afterExpiryReads: rateCount(m.byClass["after-expiry"]),
    outOfReachReads: rateCount(m.outOfReach),
    unnamedReads: rateCount(m.unnamed),
    computes: { total, demand, ahead: total - demand, wasted, pending: m.pending },
    waste: rate(wasted, resolved),
    budget: { ...budget, utilisation: rate(budget.used, budget.tokens) },
    latencySavedMs: m.latencySavedMs,
    latencySavedShare: rate(m.latencySavedMs, m.latencyTotalMs),
    prefetch: {
      issued,
      useful,
      late,
      // Srinath et al. (HPCA 2007): accuracy = useful / issued; coverage = prefetch hits / (prefetch hits + misses).
      accuracy: rate(useful, issued - m.pendingAhead),
      coverage: rate(aheadHits, aheadHits + m.misses + m.stale),
      // Of the useful prefetches, the share that landed before their first read.
      timeliness: rate(useful - late, useful),
    },
    series: m.binReads.map((r, i) => (r > 0 ? (m.binHits[i] ?? 0) / r : null)),
  };
}
