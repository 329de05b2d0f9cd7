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
  /** Time since the read of `from`, ms. */
  gapMs: number;
}

export class SequenceTracker {
  readonly #capacity: number;
  readonly #sessionGapMs: number;
  /** Each sequence's last read; `sequence` is the map's own key string, reused when the entry moves to the end. */
  readonly #last = new Map<string, { key: string; time: number; sequence: string }>();

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
    if (prev === undefined) {
      this.#last.set(sequence, { key, time, sequence });
      if (this.#last.size > this.#capacity) this.#last.delete(this.#last.keys().next().value!);
      return undefined;
    }
    // The sequence's entry is updated in place and moved to the most recent end.
    const prevKey = prev.key;
    const prevTime = prev.time;
    this.#last.delete(sequence);
    prev.key = key;
    prev.time = Math.max(time, prevTime);
    this.#last.set(prev.sequence, prev);
    if (prevKey === key) return undefined;
    const gap = time - prevTime;
    if (gap < 0 || gap > this.#sessionGapMs) return undefined;
    return { from: prevKey, to: key, time, gapMs: gap };
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

/**
 * Each read's transition in its sequence, in order (undefined where it
 * completes none): worked out once per read for everything that learns from
 * them (the successor counts, the successor chains).
 */
export function stepsOf(
  events: ReadonlyArray<{ tenant: string; userId: string; key: string; time: number }>,
  sequences: SequenceTracker,
): Array<Transition | undefined> {
  return events.map((e) => sequences.observe(sequenceOf(e.tenant, e.userId), e.key, e.time));
}
