import type { Clock } from "@prescient/core";
import type { LoadSample } from "./ports.js";
import {
  addCount,
  type Counts,
  type PlannedTask,
  type SkipReason,
  skipReasons,
  type TaskReason,
} from "./types.js";

/**
 * The background budget. Work the precomputer starts on its own (schedules,
 * launch warming, refresh-ahead, predicted work, learned fan-out) is paid
 * from a token bucket (`perMinute`, holding at most `burstMinutes` of it)
 * that shrinks under load; work someone asked for (triggers, misses, manual
 * warms) always passes, and with `chargeForeground` it is paid for too.
 *
 * Background work is spent by expected value: each task carries the
 * probability that its result is read before it expires (1 when unknown),
 * and a batch is admitted highest probability × tenant weight first, then
 * by priority. A task is also held to a bar that rises as the bucket
 * empties, max(min_probability, (1 − fill)^bar_exponent): with budget to
 * spare all the sources propose down to `min_probability` is computed, and
 * spending grows with the budget; when budget is tight only likely reads
 * are, which bounds waste. Every task not admitted is counted by why.
 */
export interface BudgetOptions {
  /** Background tasks admitted per minute, on average. Default 10,000. */
  perMinute: number;
  /** How many minutes of budget may be saved up for a burst. Default 1. */
  burstMinutes: number;
  /** Foreground tasks use up budget too (they are never refused). Default false. */
  chargeForeground: boolean;
  /** Reasons that count as background. Default schedule, launch, refresh, predicted. */
  backgroundReasons: readonly TaskReason[];
  /** Back-off thresholds. Above one, the budget shrinks linearly; at twice it, none is left. */
  maxLiveQps: number;
  maxQueueDepth: number;
  maxPredictorQueueMs: number;
  /** Tenant → weight; absent tenants weigh 1. */
  tenantWeights: ReadonlyMap<string, number>;
  /** The lowest bar: a task whose read is less likely is never admitted. Default 0.2. */
  minProbability: number;
  /**
   * How late the bar rises as the bucket empties: (1 − fill)^barExponent.
   * Default 4: the bar leaves the 0.2 floor below about a third full and asks
   * for 0.66 at a tenth full. At 2 it asked for 0.64 at a fifth full, so a
   * bucket held near that level all afternoon refused reads of 0.55-0.65
   * that it had the tokens for (chosen on random-adplatform seeds 71-76 at
   * the default budget; see config/task-types.yaml).
   */
  barExponent: number;
}

export const budgetDefaults: Readonly<BudgetOptions> = {
  perMinute: 10_000,
  burstMinutes: 1,
  chargeForeground: false,
  backgroundReasons: ["schedule", "launch", "refresh", "predicted"],
  maxLiveQps: 5000,
  maxQueueDepth: 10_000,
  maxPredictorQueueMs: 50,
  tenantWeights: new Map(),
  minProbability: 0.2,
  barExponent: 4,
};

export interface Admission<T extends PlannedTask> {
  admitted: T[];
  /** Tasks not admitted, by reason. */
  deferred: Counts;
}

export interface BudgetUsage {
  /** Background tasks admitted in the current minute. */
  used: number;
  /** The per-minute rate. */
  limit: number;
  /** Tasks the bucket could pay for now, after back-off. */
  available: number;
  /** 0 (no pressure) to 1 (stopped); the highest load signal relative to its threshold, less one. */
  pressure: number;
  /** The probability a background task needs now (see the class comment). */
  bar: number;
  windowStart: number;
}

const minuteMs = 60_000;

/** How far over its threshold the worst signal is, and which signal it is. */
export function loadPressure(
  load: LoadSample,
  o: Pick<BudgetOptions, "maxLiveQps" | "maxQueueDepth" | "maxPredictorQueueMs">,
): { ratio: number; reason: SkipReason | undefined } {
  const signals: Array<[number | undefined, number, SkipReason]> = [
    [load.liveQps, o.maxLiveQps, skipReasons.backoffLiveLoad],
    [load.queueDepth, o.maxQueueDepth, skipReasons.backoffQueueDepth],
    [load.predictorQueueMs, o.maxPredictorQueueMs, skipReasons.backoffPredictorQueue],
  ];
  let ratio = 0;
  let reason: SkipReason | undefined;
  for (const [value, threshold, why] of signals) {
    if (value === undefined || !Number.isFinite(value)) continue;
    const r = value / threshold;
    if (r > ratio) {
      ratio = r;
      reason = why;
    }
  }
  return { ratio, reason };
}

/** Share of the allowance left under a pressure ratio: 1 up to the threshold, 0 at twice it. */
export function backoffFactor(ratio: number): number {
  if (ratio <= 1) return 1;
  return Math.max(0, 2 - ratio);
}

export class Budget {
  readonly options: BudgetOptions;
  readonly #clock: Clock;
  readonly #background: ReadonlySet<TaskReason>;
  readonly #capacity: number;
  #tokens: number;
  #filledAt: number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #used = 0;
  #lastRatio = 0;

  constructor(clock: Clock, options?: Partial<BudgetOptions>) {
    this.options = { ...budgetDefaults, ...options };
    this.#clock = clock;
    this.#background = new Set(this.options.backgroundReasons);
    this.#capacity = this.options.perMinute * this.options.burstMinutes;
    this.#tokens = this.#capacity;
    this.#filledAt = clock.now();
  }

  /** Background: a background reason, or a task whose read is only probable (learned fan-out). */
  isBackground(task: Pick<PlannedTask, "reason" | "probability">): boolean {
    return this.#background.has(task.reason) || task.probability !== undefined;
  }

  weightOf(tenant: string): number {
    return this.options.tenantWeights.get(tenant) ?? 1;
  }

  /**
   * Admits what the bucket and the load allow, by expected value (see the
   * class comment). Foreground tasks pass untouched. The budget is spent at
   * once: call `refund` for tasks that were then not enqueued.
   */
  admit<T extends PlannedTask>(tasks: readonly T[], load: LoadSample): Admission<T> {
    this.#refill();
    const deferred: Counts = new Map();
    const foreground: T[] = [];
    const background: T[] = [];
    for (const t of tasks) (this.isBackground(t) ? background : foreground).push(t);
    if (this.options.chargeForeground) this.#tokens -= foreground.length;
    if (background.length === 0) return { admitted: foreground, deferred };

    const { ratio, reason } = loadPressure(load, this.options);
    this.#lastRatio = ratio;
    // Back-off keeps the part of the bucket the load has taken out of reach.
    const reserve = this.#capacity * (1 - backoffFactor(ratio));
    const room = Math.max(0, Math.floor(this.#tokens - reserve));
    const bar = this.#bar();
    const ranked = background
      .map((t, i) => ({ t, i, p: t.probability ?? 1, score: (t.probability ?? 1) * this.weightOf(t.tenant) }))
      .sort((a, b) => b.score - a.score || b.t.priority - a.t.priority || a.i - b.i);
    const admitted: T[] = [];
    let unlikely = 0;
    for (const r of ranked) {
      if (r.p < bar) unlikely++;
      else if (admitted.length < room) admitted.push(r.t);
    }
    addCount(deferred, skipReasons.lowValue, unlikely);
    const refused = ranked.length - admitted.length - unlikely;
    if (refused > 0) {
      // Blame the load when it is what took the room below this batch.
      const why = ratio > 1 && reason !== undefined && room < ranked.length - unlikely ? reason : undefined;
      addCount(deferred, why ?? skipReasons.budgetExhausted, refused);
    }
    this.#tokens -= admitted.length;
    this.#count(admitted.length);
    return { admitted: [...foreground, ...admitted], deferred };
  }

  /** Gives back budget for admitted background tasks that were not enqueued after all. */
  refund(tasks: readonly PlannedTask[]): void {
    const n = tasks.filter((t) => this.isBackground(t)).length;
    this.#tokens = Math.min(this.#capacity, this.#tokens + n);
    this.#used = Math.max(0, this.#used - n);
  }

  usage(): BudgetUsage {
    this.#refill();
    this.#count(0);
    const reserve = this.#capacity * (1 - backoffFactor(this.#lastRatio));
    return {
      used: this.#used,
      limit: this.options.perMinute,
      available: Math.max(0, Math.floor(this.#tokens - reserve)),
      pressure: Math.min(1, Math.max(0, this.#lastRatio - 1)),
      bar: this.#bar(),
      windowStart: this.#windowStart,
    };
  }

  /** The probability a background task needs: 0 with the bucket full, rising to 1 as it empties. */
  #bar(): number {
    if (this.#capacity <= 0) return 1;
    const fill = Math.min(1, Math.max(0, this.#tokens / this.#capacity));
    return Math.max(this.options.minProbability, (1 - fill) ** this.options.barExponent);
  }

  #refill(): void {
    const now = this.#clock.now();
    if (now > this.#filledAt) {
      this.#tokens = Math.min(
        this.#capacity,
        this.#tokens + ((now - this.#filledAt) * this.options.perMinute) / minuteMs,
      );
      this.#filledAt = now;
    }
  }

  /** Counts admissions per clock minute, for Stats. */
  #count(n: number): void {
    const start = Math.floor(this.#clock.now() / minuteMs) * minuteMs;
    if (start !== this.#windowStart) {
      this.#windowStart = start;
      this.#used = 0;
    }
    this.#used += n;
  }
}
