import {
  type EntityKey,
  type RefreshAheadSettings,
  type RefreshCandidate,
  refreshHorizonMs,
  type ScheduleSpec,
} from "@prescient/precomputer";

interface Stored extends EntityKey {
  expiresAt: number;
  ttlMs: number;
  /** When the result enters its refresh horizon. */
  dueAt: number;
}

/** A key's read rate, exponentially decayed: `weight` as of `at`, with mean life `tauMs`. */
interface ReadRate {
  weight: number;
  at: number;
  tauMs: number;
}

/**
 * What the refresh-ahead job reads from the cache: the stored results with
 * their demand, and the keys XFetch flagged on hits, taken up to the job's
 * limit as the live cache's `takeRefreshDue` gives them. Results wait in a
 * heap until they enter their refresh horizon, so a run looks only at those
 * near expiry.
 *
 * Demand is a key's read rate decayed with a half-life that is a fraction of
 * its TTL, kept across its results. Why not reads over the result's lifetime:
 * a burst (a session's dashboard, a campaign's first minutes) then looks like
 * lasting demand, and its refreshes go unread (on the generated adplatform
 * workload 78–100% of such refreshes of 1 h and campaign types were wasted).
 * A half-life tied to the TTL asks whether the key is still read as the
 * result nears expiry, on the time scale its next result will live on.
 */
export class RefreshSource {
  readonly #s: RefreshAheadSettings;
  /** The current result of each key. */
  readonly #current = new Map<string, Stored>();
  /** Results not yet within their horizon, by dueAt (replaced ones are dropped when they surface). */
  readonly #waiting: Stored[] = [];
  /** Results within their horizon. */
  readonly #due = new Map<string, Stored>();
  readonly #flagged = new Map<string, EntityKey>();
  readonly #rates = new Map<string, ReadRate>();
  readonly #halfLifeFraction: number;

  /** `halfLifeFraction`: the read rate's half-life as a fraction of the key's TTL. */
  constructor(settings: RefreshAheadSettings, halfLifeFraction: number) {
    if (!(halfLifeFraction > 0)) throw new RangeError("the read rate's half-life fraction must be above 0");
    this.#s = settings;
    this.#halfLifeFraction = halfLifeFraction;
  }

  stored(k: EntityKey, expiresAt: number, ttlMs: number): void {
    const e: Stored = {
      ...k,
      expiresAt,
      ttlMs,
      dueAt: expiresAt - refreshHorizonMs(ttlMs, this.#s),
    };
    this.#current.set(k.key, e);
    this.#due.delete(k.key);
    const h = this.#waiting;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.dueAt <= e.dueAt) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  /** A read of `key`, whose type's TTL is `ttlMs`. */
  read(key: string, now: number, ttlMs: number): void {
    const tauMs = Math.max(1, (this.#halfLifeFraction * ttlMs) / Math.LN2);
    const r = this.#rates.get(key);
    if (r === undefined) this.#rates.set(key, { weight: 1, at: now, tauMs });
    else {
      r.weight = r.weight * Math.exp(-(now - r.at) / r.tauMs) + 1;
      r.at = now;
      r.tauMs = tauMs;
    }
  }

  /** Reads per second: the decayed count over the mean life (a steady stream's rate). */
  demand(key: string, now: number): number {
    const r = this.#rates.get(key);
    if (r === undefined) return 0;
    return (r.weight * Math.exp(-(now - r.at) / r.tauMs)) / (r.tauMs / 1000);
  }

  flag(k: EntityKey): void {
    this.#flagged.set(k.key, k);
  }

  takeFlagged(limit: number): EntityKey[] {
    const out: EntityKey[] = [];
    for (const [key, k] of this.#flagged) {
      if (out.length >= limit) break;
      out.push(k);
      this.#flagged.delete(key);
    }
    return out;
  }

  /**
   * Results within their refresh horizon (an expired one has no stored result:
   * `expiresAt` undefined), hottest first, at most `candidates`, limited to
   * the schedule's task type and tenant. A result expired is offered once, then forgotten.
   */
  candidates(now: number, spec: ScheduleSpec): RefreshCandidate[] {
    const h = this.#waiting;
    while (h.length > 0 && h[0]!.dueAt <= now) {
      const e = this.#pop();
      if (this.#current.get(e.key) === e) this.#due.set(e.key, e);
    }
    const out: RefreshCandidate[] = [];
    for (const [key, e] of this.#due) {
      const expired = e.expiresAt <= now;
      if (expired) {
        this.#due.delete(key);
        this.#current.delete(key);
      }
      if (spec.taskType !== undefined && e.taskType !== spec.taskType) continue;
      if (spec.tenant !== undefined && e.tenant !== spec.tenant) continue;
      out.push({
        key,
        tenant: e.tenant,
        taskType: e.taskType,
        entityId: e.entityId,
        demand: this.demand(key, now),
        expiresAt: expired ? undefined : e.expiresAt,
        ttlMs: e.ttlMs,
      });
    }
    return out
      .sort((a, b) => b.demand - a.demand || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, this.#s.candidates);
  }

  #pop(): Stored {
    const h = this.#waiting;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]!.dueAt < h[l]!.dueAt ? r : l;
        if (h[c]!.dueAt >= last.dueAt) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
