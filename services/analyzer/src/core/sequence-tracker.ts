/**
 * Remembers, per access sequence (a tenant's user, or the tenant's anonymous
 * stream), the last key read and when, in bounded memory: a Map kept in
 * least-recently-used order, its oldest entry dropped beyond capacity. A read
 * after a gap longer than the session gap starts a new sequence.
 */
export interface Transition {
  from: string;
  to: string;
  time: number;
}

export class SequenceTracker {
  readonly #capacity: number;
  readonly #sessionGapMs: number;
  readonly #last = new Map<string, { key: string; time: number }>();

  constructor(capacity: number, sessionGapMs: number) {
    this.#capacity = capacity;
    this.#sessionGapMs = sessionGapMs;
  }

  get size(): number {
    return this.#last.size;
  }

  /** Records a read; returns the transition it completes, if any (never a key to itself). */
  observe(sequence: string, key: string, time: number): Transition | undefined {
    const prev = this.#last.get(sequence);
    this.#last.delete(sequence);
    this.#last.set(sequence, { key, time: Math.max(time, prev?.time ?? time) });
    if (this.#last.size > this.#capacity) this.#last.delete(this.#last.keys().next().value!);
    if (prev === undefined || prev.key === key) return undefined;
    const gap = time - prev.time;
    if (gap < 0 || gap > this.#sessionGapMs) return undefined;
    return { from: prev.key, to: key, time };
  }

  /** Forgets sequences idle since before cutoff; returns how many. */
  removeIdle(cutoff: number): number {
    let removed = 0;
    for (const [seq, last] of this.#last) {
      if (last.time < cutoff) {
        this.#last.delete(seq);
        removed++;
      }
    }
    return removed;
  }
}

/** The sequence an event belongs to: its user within its tenant. */
export const sequenceOf = (tenant: string, userId: string): string => `${tenant}\u0000${userId}`;
