import { ManualClock } from "@prescient/core";

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
  readonly #heap: Timer[] = [];
  #seq = 0;

  constructor(startMs = 0) {
    this.clock = new ManualClock(startMs);
  }

  get now(): number {
    return this.clock.now();
  }

  get pending(): number {
    return this.#heap.length;
  }

  /** Runs `action` at `time` (now, if time is already past). */
  at(time: number, action: Action): void {
    const t: Timer = { time: Math.max(time, this.clock.now()), seq: this.#seq++, action };
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(t, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = t;
  }

  /** Fires every action due at or before `time`, then leaves the clock at `time`. */
  async runUntil(time: number): Promise<void> {
    const h = this.#heap;
    while (h.length > 0 && h[0]!.time <= time) {
      const t = this.#pop();
      this.clock.set(t.time);
      const r = t.action();
      if (r !== undefined) await r;
    }
    if (time > this.clock.now()) this.clock.set(time);
  }

  #pop(): Timer {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

const before = (a: Timer, b: Timer): boolean => a.time < b.time || (a.time === b.time && a.seq < b.seq);
