import { kitRegistry } from "@prescient/kit";
import { Counter, Gauge, type Registry } from "prom-client";
import type { DeadLetterDropReason, QueueStats, StateCounts, TaskQueue } from "./queue/index.js";

/** The states the per-type gauge shows; completed is a running total, not a level. */
const gaugedStates = [
  "queued",
  "delayed",
  "processing",
  "failed",
  "dead",
] as const satisfies readonly (keyof StateCounts)[];
const priorities = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
/** A scrape waits this long for the store at most, then keeps the last values. */
const scrapeReadMs = 2_000;

/**
 * The executor's queue metrics: its depth and states (read from the queue at
 * scrape time, so enqueue and claim pay nothing for them), dead letters, and
 * store operations that failed. One instance per registry, so several
 * executors in one process (tests, `prescient up`) share the series; the
 * gauges read the most recently started executor's queue.
 */
export class QueueMetrics {
  static #byRegistry = new WeakMap<Registry, QueueMetrics>();

  static for(registry: Registry = kitRegistry): QueueMetrics {
    let metrics = QueueMetrics.#byRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new QueueMetrics(registry);
      QueueMetrics.#byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  readonly deadLettersDropped: Counter<"reason">;
  readonly deadLetters: Gauge;
  readonly depth: Gauge<"priority">;
  readonly tasks: Gauge<"task_type" | "state">;
  readonly storeErrors: Counter<"operation">;
  /** Where the gauges read from. */
  queue: TaskQueue | undefined;
  /** The stats read of the scrape under way, shared by the gauges that need it. */
  #statsRead: Promise<QueueStats | undefined> | undefined;

  private constructor(registry: Registry) {
    const registers = [registry];
    this.deadLettersDropped = new Counter({
      name: "prescient_executor_dead_letters_dropped_total",
      help: "Dead letters deleted without a purge, by reason: capacity (oldest pushed out) or retention (aged out).",
      labelNames: ["reason"] as const,
      registers,
    });
    this.storeErrors = new Counter({
      name: "prescient_executor_store_errors_total",
      help: "Queue and entity store operations that failed because the store did, by operation.",
      labelNames: ["operation"] as const,
      registers,
    });
    const source = (): TaskQueue | undefined => this.queue;
    this.deadLetters = new Gauge({
      name: "prescient_executor_dead_letters",
      help: "Dead letters held now (bounded by the queue's deadLetterCapacity).",
      registers,
      async collect() {
        const queue = source();
        if (queue === undefined) return;
        // An unreachable store leaves the last value: a scrape must not fail for it.
        await within(queue.countDeadLetters(), scrapeReadMs).then(
          (n) => {
            if (n !== undefined) this.set(n);
          },
          () => undefined,
        );
      },
    });
    const stats = (): Promise<QueueStats | undefined> => this.#readStats();
    this.depth = new Gauge({
      name: "prescient_executor_queue_depth",
      help: "Tasks claimable now, by priority (10 is claimed first).",
      labelNames: ["priority"] as const,
      registers,
      async collect() {
        const s = await stats();
        if (s === undefined) return;
        const byPriority = new Map(s.byPriority.map((p) => [p.priority, p.queued]));
        for (const p of priorities) this.labels(String(p)).set(byPriority.get(p) ?? 0);
      },
    });
    this.tasks = new Gauge({
      name: "prescient_executor_queue_tasks",
      help: "Tasks in the queue by task type and state (queued, delayed, processing, failed awaiting retry, dead).",
      labelNames: ["task_type", "state"] as const,
      registers,
      async collect() {
        const s = await stats();
        if (s === undefined) return;
        // A type the queue no longer reports reads 0 rather than its last level.
        this.reset();
        for (const { taskType, counts } of s.byTaskType)
          for (const state of gaugedStates) this.labels(taskType, state).set(counts[state]);
      },
    });
  }

  /** The queue option that feeds the drop counter. */
  readonly onDeadLettersDropped = (reason: DeadLetterDropReason, count: number): void => {
    this.deadLettersDropped.labels(reason).inc(count);
  };

  /** The `countFailures` callback that feeds the store error counter. */
  readonly onStoreError = (operation: string): void => {
    this.storeErrors.labels(operation).inc();
  };

  /** One stats read per scrape; undefined (keep the last values) when the store fails or is slow. */
  #readStats(): Promise<QueueStats | undefined> {
    const queue = this.queue;
    if (queue === undefined) return Promise.resolve(undefined);
    this.#statsRead ??= within(queue.stats(), scrapeReadMs)
      .catch(() => undefined)
      .finally(() => {
        this.#statsRead = undefined;
      });
    return this.#statsRead;
  }
}

/** The read's value, or undefined when it takes longer than `ms`. */
function within<T>(read: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
    timer.unref();
  });
  return Promise.race([read, timeout]).finally(() => clearTimeout(timer));
}
