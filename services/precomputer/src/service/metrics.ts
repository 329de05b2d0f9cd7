import { kitRegistry } from "@prescient/kit";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Alert } from "../core/alerts.js";
import type { BudgetUsage } from "../core/budget.js";
import type { PrecomputerCounters } from "../core/counters.js";
import type { RunRecord } from "../core/run-store.js";

/**
 * The precomputer's metrics, registered when a precomputer starts (not on
 * import, so a process serving another service does not export them). One
 * instance per registry: replicas in one test process share the series.
 */
export class PrecomputerMetrics {
  static #byRegistry = new WeakMap<Registry, PrecomputerMetrics>();

  static for(registry: Registry = kitRegistry): PrecomputerMetrics {
    let metrics = PrecomputerMetrics.#byRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new PrecomputerMetrics(registry);
      PrecomputerMetrics.#byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  readonly enqueued: Counter<"reason" | "task_type">;
  readonly skipped: Counter<"reason">;
  readonly unlooked: Counter;
  readonly budgetUsed: Gauge;
  readonly budgetLimit: Gauge;
  readonly budgetPressure: Gauge;
  readonly queueDepth: Gauge;
  readonly hitRate: Gauge;
  readonly alertFiring: Gauge<"alert">;
  readonly alertThreshold: Gauge<"alert">;
  readonly runs: Counter<"schedule" | "status">;
  readonly windowsMissed: Counter<"schedule">;
  readonly lastSuccess: Gauge<"schedule">;
  readonly #lastSuccess = new Map<string, number>();

  private constructor(registry: Registry) {
    const registers = [registry];
    this.enqueued = new Counter({
      name: "prescient_precomputer_tasks_enqueued_total",
      help: "Tasks the precomputer enqueued, by reason and task type; one merged into a task of its key already queued counts as skipped (queued).",
      labelNames: ["reason", "task_type"] as const,
      registers,
    });
    this.skipped = new Counter({
      name: "prescient_precomputer_tasks_skipped_total",
      help: "Tasks the precomputer skipped or deferred, by reason (fresh, budget_exhausted, backoff_*, cold, ...).",
      labelNames: ["reason"] as const,
      registers,
    });
    this.unlooked = new Counter({
      name: "prescient_precomputer_freshness_lookups_sampled_out_total",
      help: "Keys of skip-fresh triggers enqueued without a freshness lookup, because lookups of their kind (tenant, event type, task type) almost never find a fresh result and are only sampled.",
      registers,
    });
    this.budgetUsed = new Gauge({
      name: "prescient_precomputer_budget_used",
      help: "Background tasks admitted in the current minute.",
      registers,
    });
    this.budgetLimit = new Gauge({
      name: "prescient_precomputer_budget_limit",
      help: "Background tasks allowed per minute.",
      registers,
    });
    this.budgetPressure = new Gauge({
      name: "prescient_precomputer_budget_pressure",
      help: "Load over the back-off thresholds: 0 none, 1 background work stopped.",
      registers,
    });
    this.queueDepth = new Gauge({
      name: "prescient_precomputer_observed_queue_depth",
      help: "Executor queue depth as last sampled by the precomputer.",
      registers,
    });
    this.hitRate = new Gauge({
      name: "prescient_precomputer_observed_hit_rate",
      help: "Cache hit rate (stale hits included) over the last minute of lookups, as the precomputer samples it; NaN until a lookup is seen.",
      registers,
    });
    // Unknown until the first sample with lookups: NaN, so no dashboard or rule reads it as a 0% hit rate.
    this.hitRate.set(Number.NaN);
    this.alertFiring = new Gauge({
      name: "prescient_precomputer_alert_firing",
      help: "1 while an alert rule fires (queue_depth_high: depth above its threshold; hit_rate_low: hit rate below it).",
      labelNames: ["alert"] as const,
      registers,
    });
    this.alertThreshold = new Gauge({
      name: "prescient_precomputer_alert_threshold",
      help: "The configured threshold of each alert rule.",
      labelNames: ["alert"] as const,
      registers,
    });
    this.runs = new Counter({
      name: "prescient_precomputer_schedule_runs_total",
      help: "Schedule runs this replica finished, by schedule and status.",
      labelNames: ["schedule", "status"] as const,
      registers,
    });
    this.windowsMissed = new Counter({
      name: "prescient_precomputer_schedule_windows_missed_total",
      help: "Schedule windows that ended with no successful run by any replica, as seen by this replica (each replica that runs schedules counts the same window: aggregate with max).",
      labelNames: ["schedule"] as const,
      registers,
    });
    this.lastSuccess = new Gauge({
      name: "prescient_precomputer_schedule_last_success_timestamp_seconds",
      help: "When the newest successful run of each schedule that this replica knows of finished (by any replica), in Unix seconds.",
      labelNames: ["schedule"] as const,
      registers,
    });
  }

  /**
   * Starts each schedule's missed-window count at 0, so a rule over its
   * increase sees the first miss rather than a series born with it.
   */
  trackSchedules(names: readonly string[]): void {
    for (const name of names) this.windowsMissed.labels(name).inc(0);
  }

  mirrorCounters(counters: PrecomputerCounters): void {
    counters.onChange((kind, labels, n) => {
      if (kind === "enqueued") this.enqueued.labels(labels[0] ?? "", labels[1] ?? "").inc(n);
      else if (kind === "skipped") this.skipped.labels(labels[0] ?? "").inc(n);
      else this.unlooked.inc(n);
    });
  }

  recordAlerts(alerts: readonly Alert[], budget: BudgetUsage): void {
    for (const a of alerts) {
      this.alertFiring.labels(a.name).set(a.firing ? 1 : 0);
      this.alertThreshold.labels(a.name).set(a.threshold);
      if (a.value !== undefined)
        (a.name === "queue_depth_high" ? this.queueDepth : this.hitRate).set(a.value);
    }
    this.budgetUsed.set(budget.used);
    this.budgetLimit.set(budget.limit);
    this.budgetPressure.set(budget.pressure);
  }

  /** A run this replica finished. */
  readonly recordRun = (run: RunRecord): void => {
    this.runs.labels(run.schedule, run.status).inc();
    if (run.status === "succeeded") this.#succeeded(run);
  };

  /**
   * A schedule window ended: `record` is its run as the shared run store has
   * it (whoever ran it), undefined when no replica claimed it.
   */
  readonly windowClosed = (schedule: string, record: RunRecord | undefined): void => {
    if (record?.status === "succeeded") this.#succeeded(record);
    else this.windowsMissed.labels(schedule).inc();
  };

  #succeeded(run: RunRecord): void {
    // Records arrive out of order (own runs at once, other replicas' at window end): keep the newest.
    const at = Math.max((run.finishedAt ?? run.startedAt) / 1000, this.#lastSuccess.get(run.schedule) ?? 0);
    this.#lastSuccess.set(run.schedule, at);
    this.lastSuccess.labels(run.schedule).set(at);
  }
}
