import { addCount, type Counts, type TaskReason } from "./types.js";

/** A snapshot of what the precomputer did, as Stats reports it. */
export interface CountersSnapshot {
  enqueuedByReason: Array<{ name: string; count: number }>;
  enqueuedByTaskType: Array<{ name: string; count: number }>;
  skippedByReason: Array<{ name: string; count: number }>;
}

/** What a counter listener is told changed. */
export type CounterKind = "enqueued" | "skipped" | "unlooked";

/**
 * Counts tasks enqueued (by reason and by task type) and skipped or deferred
 * (by reason). Listeners mirror every change into metrics without the core
 * knowing about Prometheus.
 */
export class PrecomputerCounters {
  readonly #byReason: Counts = new Map();
  readonly #byType: Counts = new Map();
  readonly #skipped: Counts = new Map();
  #unlooked = 0;
  readonly #listeners: Array<(kind: CounterKind, labels: string[], n: number) => void> = [];

  onChange(listener: (kind: CounterKind, labels: string[], n: number) => void): void {
    this.#listeners.push(listener);
  }

  enqueued(reason: TaskReason, taskType: string, n = 1): void {
    if (n <= 0) return;
    addCount(this.#byReason, reason, n);
    addCount(this.#byType, taskType, n);
    for (const l of this.#listeners) l("enqueued", [reason, taskType], n);
  }

  skipped(reason: string, n = 1): void {
    if (n <= 0) return;
    addCount(this.#skipped, reason, n);
    for (const l of this.#listeners) l("skipped", [reason], n);
  }

  /** Skip-fresh keys enqueued without a freshness lookup (FreshPeekGate): tasks enqueued, not skipped. */
  unlooked(n: number): void {
    if (n <= 0) return;
    this.#unlooked += n;
    for (const l of this.#listeners) l("unlooked", [], n);
  }

  unlookedCount(): number {
    return this.#unlooked;
  }

  skippedAll(counts: Counts): void {
    for (const [reason, n] of counts) this.skipped(reason, n);
  }

  skippedCount(reason: string): number {
    return this.#skipped.get(reason) ?? 0;
  }

  enqueuedCount(reason: TaskReason): number {
    return this.#byReason.get(reason) ?? 0;
  }

  snapshot(): CountersSnapshot {
    const list = (c: Counts) =>
      [...c].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, count]) => ({ name, count }));
    return {
      enqueuedByReason: list(this.#byReason),
      enqueuedByTaskType: list(this.#byType),
      skippedByReason: list(this.#skipped),
    };
  }
}
