import { kitRegistry } from "@prescient/kit";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ClaimedTask, FailOutcome } from "../queue/index.js";

/** The label children of one task type, resolved once so settling a batch only increments. */
interface TypeSeries {
  deadLettered: Counter.Internal;
  leaseLost: Counter.Internal;
  retries: Counter.Internal;
  completed: Histogram.Internal<"task_type" | "outcome">;
  retried: Histogram.Internal<"task_type" | "outcome">;
  dead: Histogram.Internal<"task_type" | "outcome">;
}

/** Enqueue to outcome: from a cache miss answered in milliseconds to a backlog drained over minutes. */
const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Powers of two up to the largest claim (queueLimits.batchMax is 5,000; the default claim 256). */
const claimBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/**
 * What this process's workers do with the tasks they claim: how many are in
 * flight, claim sizes, and each task's outcome (completed, retried,
 * dead-lettered) with its time since enqueue. One instance per registry, so
 * several worker pools in one process share the series.
 */
export class WorkerMetrics {
  static #byRegistry = new WeakMap<Registry, WorkerMetrics>();

  static for(registry: Registry = kitRegistry): WorkerMetrics {
    let metrics = WorkerMetrics.#byRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new WorkerMetrics(registry);
      WorkerMetrics.#byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  readonly inFlight: Gauge;
  readonly deadLettered: Counter<"task_type">;
  readonly retries: Counter<"task_type">;
  readonly leaseLost: Counter<"task_type">;
  readonly claimBatchSize: Histogram;
  readonly duration: Histogram<"task_type" | "outcome">;
  readonly #types = new Map<string, TypeSeries>();

  private constructor(registry: Registry) {
    const registers = [registry];
    this.inFlight = new Gauge({
      name: "prescient_executor_tasks_in_flight",
      help: "Tasks claimed by this process's workers and not yet acked or failed.",
      registers,
    });
    this.deadLettered = new Counter({
      name: "prescient_executor_tasks_dead_lettered_total",
      help: "Tasks this process's workers failed into the dead-letter set (out of attempts or permanently bad), by task type.",
      labelNames: ["task_type"] as const,
      registers,
    });
    this.retries = new Counter({
      name: "prescient_executor_task_retries_total",
      help: "Tasks this process's workers failed and the queue scheduled for a retry, by task type.",
      labelNames: ["task_type"] as const,
      registers,
    });
    this.leaseLost = new Counter({
      name: "prescient_executor_tasks_lease_lost_total",
      help: "Tasks this process's workers computed after their lease ran out: the ack was refused, and another claim completes them (a lease too short for the batch, or a stalled process), by task type.",
      labelNames: ["task_type"] as const,
      registers,
    });
    this.claimBatchSize = new Histogram({
      name: "prescient_executor_claim_batch_size",
      help: "Tasks per claim that returned any.",
      buckets: claimBuckets,
      registers,
    });
    this.duration = new Histogram({
      name: "prescient_executor_task_duration_seconds",
      help: "Time from a task's enqueue to its outcome (completed, retried, dead_lettered), by task type.",
      labelNames: ["task_type", "outcome"] as const,
      buckets: durationBuckets,
      registers,
    });
  }

  /** A claim returned `n` tasks (n > 0): they are in flight until `settled`. */
  claimed(n: number): void {
    this.claimBatchSize.observe(n);
    this.inFlight.inc(n);
  }

  /** A claimed batch is done with, settled or not: its tasks are no longer in flight. */
  released(n: number): void {
    this.inFlight.dec(n);
  }

  /**
   * Counts each task's outcome: `completed` were acked, `failed` are the
   * queue's answers to failMany, `refused` were computed but their ack was
   * refused (the lease ran out).
   */
  settled(
    claimed: readonly ClaimedTask[],
    completed: readonly string[],
    failed: readonly FailOutcome[],
    now: number,
    refused: readonly string[] = [],
  ): void {
    const byId = new Map(claimed.map((t) => [t.id, t]));
    const seconds = (t: ClaimedTask): number => Math.max(0, now - t.createdAt) / 1000;
    for (const id of completed) {
      const t = byId.get(id);
      if (t !== undefined) this.#type(t.taskType).completed.observe(seconds(t));
    }
    for (const id of refused) {
      const t = byId.get(id);
      if (t !== undefined) this.#type(t.taskType).leaseLost.inc();
    }
    for (const f of failed) {
      const t = byId.get(f.id);
      if (t === undefined || f.outcome === "ignored") continue;
      const s = this.#type(t.taskType);
      if (f.outcome === "retry") {
        s.retries.inc();
        s.retried.observe(seconds(t));
      } else {
        s.deadLettered.inc();
        s.dead.observe(seconds(t));
      }
    }
  }

  #type(taskType: string): TypeSeries {
    let s = this.#types.get(taskType);
    if (s === undefined) {
      s = {
        deadLettered: this.deadLettered.labels(taskType),
        leaseLost: this.leaseLost.labels(taskType),
        retries: this.retries.labels(taskType),
        completed: this.duration.labels(taskType, "completed"),
        retried: this.duration.labels(taskType, "retried"),
        dead: this.duration.labels(taskType, "dead_lettered"),
      };
      this.#types.set(taskType, s);
    }
    return s;
  }
}
