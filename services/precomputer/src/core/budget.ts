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
 * launch warming, refresh-ahead, predicted actions) is capped per minute and
 * backs off under load; work someone asked for (triggers, misses, manual
 * warms) always passes. Within what is admitted, higher priority × tenant
 * weight goes first, so premium tenants keep their precomputation when the
 * budget is tight. Every task not admitted is counted by why.
 */
export interface BudgetOptions {
  /** Background tasks admitted per clock minute. Default 10,000. */
  perMinute: number;
  /** Reasons that count as background. Default schedule, launch, refresh, predicted. */
  backgroundReasons: readonly TaskReason[];
  /** Back-off thresholds. Above one, the minute's allowance shrinks linearly; at twice it, none is left. */
  maxLiveQps: number;
  maxQueueDepth: number;
  maxPredictorQueueMs: number;
  /** Tenant → weight; absent tenants weigh 1. */
  tenantWeights: ReadonlyMap<string, number>;
}

export const budgetDefaults: Readonly<BudgetOptions> = {
  perMinute: 10_000,
  backgroundReasons: ["schedule", "launch", "refresh", "predicted"],
  maxLiveQps: 5000,
  maxQueueDepth: 10_000,
  maxPredictorQueueMs: 50,
  tenantWeights: new Map(),
};

export interface Admission<T extends PlannedTask> {
  admitted: T[];
  /** Tasks not admitted, by reason. */
  deferred: Counts;
}

export interface BudgetUsage {
  /** Background tasks admitted in the current minute. */
  used: number;
  /** The per-minute cap. */
  limit: number;
  /** The allowance left this minute after back-off. */
  available: number;
  /** 0 (no pressure) to 1 (stopped); the highest load signal relative to its threshold, less one. */
  pressure: number;
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
  #windowStart = Number.NEGATIVE_INFINITY;
  #used = 0;
  #lastRatio = 0;

  constructor(clock: Clock, options?: Partial<BudgetOptions>) {
    this.options = { ...budgetDefaults, ...options };
    this.#clock = clock;
    this.#background = new Set(this.options.backgroundReasons);
  }

  isBackground(reason: TaskReason): boolean {
    return this.#background.has(reason);
  }

  weightOf(tenant: string): number {
    return this.options.tenantWeights.get(tenant) ?? 1;
  }

  /**
   * Admits what the minute's allowance and the load allow. Foreground tasks
   * pass untouched and use none of the allowance. Background tasks are
   * ranked by priority × tenant weight (stable), and the allowance is
   * consumed at once: call `refund` for tasks that were then not enqueued.
   */
  admit<T extends PlannedTask>(tasks: readonly T[], load: LoadSample): Admission<T> {
    this.#roll();
    const deferred: Counts = new Map();
    const foreground: T[] = [];
    const background: T[] = [];
    for (const t of tasks) (this.#background.has(t.reason) ? background : foreground).push(t);
    if (background.length === 0) return { admitted: foreground, deferred };

    const { ratio, reason } = loadPressure(load, this.options);
    this.#lastRatio = ratio;
    const allowance = Math.floor(this.options.perMinute * backoffFactor(ratio));
    const room = Math.max(0, allowance - this.#used);
    const ranked = background
      .map((t, i) => ({ t, i, score: t.priority * this.weightOf(t.tenant) }))
      .sort((a, b) => b.score - a.score || a.i - b.i);
    const admitted = ranked.slice(0, room).map((r) => r.t);
    const refused = ranked.length - admitted.length;
    if (refused > 0) {
      // Blame the load when it is what shrank the allowance below this batch.
      const why =
        ratio > 1 && reason !== undefined && allowance - this.#used < ranked.length ? reason : undefined;
      addCount(deferred, why ?? skipReasons.budgetExhausted, refused);
    }
    this.#used += admitted.length;
    return { admitted: [...foreground, ...admitted], deferred };
  }

  /** Gives back allowance for admitted background tasks that were not enqueued after all. */
  refund(tasks: readonly PlannedTask[]): void {
    const n = tasks.filter((t) => this.#background.has(t.reason)).length;
    this.#used = Math.max(0, this.#used - n);
  }

  usage(): BudgetUsage {
    this.#roll();
    const allowance = Math.floor(this.options.perMinute * backoffFactor(this.#lastRatio));
    return {
      used: this.#used,
      limit: this.options.perMinute,
      available: Math.max(0, allowance - this.#used),
      pressure: Math.min(1, Math.max(0, this.#lastRatio - 1)),
      windowStart: this.#windowStart,
    };
  }

  #roll(): void {
    const start = Math.floor(this.#clock.now() / minuteMs) * minuteMs;
    if (start !== this.#windowStart) {
      this.#windowStart = start;
      this.#used = 0;
    }
  }
}
