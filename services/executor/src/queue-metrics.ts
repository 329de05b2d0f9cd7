import { kitRegistry } from "@prescient/kit";
import { Counter, Gauge, type Registry } from "prom-client";
import type { DeadLetterDropReason, TaskQueue } from "./queue/index.js";

/**
 * The executor's queue metrics: dead letters deleted unasked (by capacity or
 * retention) and how many there are now. One instance per registry, so
 * several executors in one process (tests, `prescient up`) share the series;
 * the gauge reads the most recently started executor's queue.
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
  /** Where the dead-letter gauge reads from. */
  queue: TaskQueue | undefined;

  private constructor(registry: Registry) {
    const registers = [registry];
    this.deadLettersDropped = new Counter({
      name: "prescient_executor_dead_letters_dropped_total",
      help: "Dead letters deleted without a purge, by reason: capacity (oldest pushed out) or retention (aged out).",
      labelNames: ["reason"] as const,
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
        await queue.countDeadLetters().then(
          (n) => this.set(n),
          () => undefined,
        );
      },
    });
  }

  /** The queue option that feeds the drop counter. */
  readonly onDeadLettersDropped = (reason: DeadLetterDropReason, count: number): void => {
    this.deadLettersDropped.labels(reason).inc(count);
  };
}
