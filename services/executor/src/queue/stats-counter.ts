import type { QueueStats, StateCounts } from "./task-queue.js";

/** Accumulates per-type and per-priority counts into the QueueStats shape both queues return. */
export class StatsCounter {
  readonly #byType = new Map<string, StateCounts>();
  readonly #byPriority = new Map<number, number>();

  constructor(taskTypes: Iterable<string> = []) {
    for (const t of taskTypes) this.#counts(t);
  }

  add(taskType: string, state: keyof StateCounts, n = 1): void {
    this.#counts(taskType)[state] += n;
  }

  /** Claimable tasks of one priority. */
  addPriority(priority: number, n: number): void {
    if (n > 0) this.#byPriority.set(priority, (this.#byPriority.get(priority) ?? 0) + n);
  }

  build(capacity: number, size: number, paused: boolean): QueueStats {
    const total = emptyCounts();
    const byTaskType = [...this.#byType.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([taskType, counts]) => {
        for (const k of Object.keys(total) as (keyof StateCounts)[]) total[k] += counts[k];
        return { taskType, counts };
      });
    const byPriority = [...this.#byPriority.entries()]
      .sort(([a], [b]) => b - a)
      .map(([priority, queued]) => ({ priority, queued }));
    return { total, byTaskType, byPriority, capacity, size, paused };
  }

  #counts(taskType: string): StateCounts {
    let c = this.#byType.get(taskType);
    if (c === undefined) {
      c = emptyCounts();
      this.#byType.set(taskType, c);
    }
    return c;
  }
}

function emptyCounts(): StateCounts {
  return { queued: 0, delayed: 0, processing: 0, completed: 0, failed: 0, dead: 0 };
}
