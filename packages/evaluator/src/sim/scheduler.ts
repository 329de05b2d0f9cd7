import { ManualClock, MinHeap } from "@prescient/core";

/**
 * The discrete-event core: a virtual clock and a binary min-heap of timed
 * actions (compute completions, schedule wakes, held tasks), fired in
 * time order and, at equal times, in the order they were scheduled, so that
 * a replay is deterministic.
 */
type Action = () => void | Promise<void>;

interface Timer {
  time: number;
  seq: number;
  action: Action;
}

export class Scheduler {
  readonly clock: ManualClock;
  readonly #heap = new MinHeap<Timer>((a, b) => a.time < b.time || (a.time === b.time && a.seq < b.seq));
  #seq = 0;

  constructor(startMs = 0) {
    this.clock = new ManualClock(startMs);
  }

  get now(): number {
    return this.clock.now();
  }

  get pending(): number {
    return this.#heap.size;
  }

  /** Runs `action` at `time` (now, if time is already past). */
  at(time: number, action: Action): void {
    this.#heap.push({ time: Math.max(time, this.clock.now()), seq: this.#seq++, action });
  }

  /** Fires every action due at or before `time`, then leaves the clock at `time`. */
  async runUntil(time: number): Promise<void> {
    for (let next = this.#heap.peek(); next !== undefined && next.time <= time; next = this.#heap.peek()) {
      this.#heap.pop();
      this.clock.set(next.time);
      const r = next.action();
      if (r !== undefined) await r;
    }
    if (time > this.clock.now()) this.clock.set(time);
  }
}
