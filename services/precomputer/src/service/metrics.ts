import { kitRegistry } from "@prescient/kit";
import { Counter, Gauge } from "prom-client";
import type { Alert } from "../core/alerts.js";
import type { BudgetUsage } from "../core/budget.js";
import type { PrecomputerCounters } from "../core/counters.js";
import type { RunRecord } from "../core/run-store.js";

/** The precomputer's metrics, once per process (replicas in one test process share them). */
const m = {
  enqueued: new Counter({
    name: "prescient_precomputer_tasks_enqueued_total",
    help: "Tasks the precomputer enqueued, by reason and task type.",
    labelNames: ["reason", "task_type"] as const,
    registers: [kitRegistry],
  }),
  skipped: new Counter({
    name: "prescient_precomputer_tasks_skipped_total",
    help: "Tasks the precomputer skipped or deferred, by reason (fresh, budget_exhausted, backoff_*, cold, ...).",
    labelNames: ["reason"] as const,
    registers: [kitRegistry],
  }),
  budgetUsed: new Gauge({
    name: "prescient_precomputer_budget_used",
    help: "Background tasks admitted in the current minute.",
    registers: [kitRegistry],
  }),
  budgetLimit: new Gauge({
    name: "prescient_precomputer_budget_limit",
    help: "Background tasks allowed per minute.",
    registers: [kitRegistry],
  }),
  budgetPressure: new Gauge({
    name: "prescient_precomputer_budget_pressure",
    help: "Load over the back-off thresholds: 0 none, 1 background work stopped.",
    registers: [kitRegistry],
  }),
  queueDepth: new Gauge({
    name: "prescient_precomputer_observed_queue_depth",
    help: "Executor queue depth as last sampled by the precomputer.",
    registers: [kitRegistry],
  }),
  hitRate: new Gauge({
    name: "prescient_precomputer_observed_hit_rate",
    help: "Cache hit rate over the last sampling interval.",
    registers: [kitRegistry],
  }),
  alertFiring: new Gauge({
    name: "prescient_precomputer_alert_firing",
    help: "1 while an alert rule fires (queue_depth_high: depth above its threshold; hit_rate_low: hit rate below it).",
    labelNames: ["alert"] as const,
    registers: [kitRegistry],
  }),
  alertThreshold: new Gauge({
    name: "prescient_precomputer_alert_threshold",
    help: "The configured threshold of each alert rule.",
    labelNames: ["alert"] as const,
    registers: [kitRegistry],
  }),
  runs: new Counter({
    name: "prescient_precomputer_schedule_runs_total",
    help: "Schedule runs this replica finished, by schedule and status.",
    labelNames: ["schedule", "status"] as const,
    registers: [kitRegistry],
  }),
};

export function mirrorCounters(counters: PrecomputerCounters): void {
  counters.onChange((kind, labels, n) => {
    if (kind === "enqueued") m.enqueued.labels(labels[0] ?? "", labels[1] ?? "").inc(n);
    else m.skipped.labels(labels[0] ?? "").inc(n);
  });
}

export function recordAlerts(alerts: readonly Alert[], budget: BudgetUsage): void {
  for (const a of alerts) {
    m.alertFiring.labels(a.name).set(a.firing ? 1 : 0);
    m.alertThreshold.labels(a.name).set(a.threshold);
    if (a.value !== undefined) (a.name === "queue_depth_high" ? m.queueDepth : m.hitRate).set(a.value);
  }
  m.budgetUsed.set(budget.used);
  m.budgetLimit.set(budget.limit);
  m.budgetPressure.set(budget.pressure);
}

export function recordRun(run: RunRecord): void {
  m.runs.labels(run.schedule, run.status).inc();
}
