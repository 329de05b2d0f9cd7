import {
  type EntityKey,
  type RefreshAheadSettings,
  type RefreshCandidate,
  refreshHorizonMs,
  type ScheduleSpec,
} from "@prescient/precomputer";
import { MinHeap } from "../../sim/min-heap.js";

/** A refresh candidate before the analyzer's demand is known. */
export type NearExpiry = Omit<RefreshCandidate, "demand">;

interface Stored extends EntityKey {
  expiresAt: number;
  ttlMs: number;
  /** When the result enters its refresh horizon. */
  dueAt: number;
}

/**
 * What the refresh-ahead job reads from the cache: which stored results are
 * near expiry (each result waits in a heap until it enters its refresh
 * horizon, so a run looks only at those), and the keys XFetch flagged on
 * hits, taken up to the job's limit as the live cache's `takeRefreshDue`
 * gives them. Their demand comes from the analyzer, as the live job's does.
 */
export class RefreshSource {
  readonly #s: RefreshAheadSettings;
  /** The current result of each key. */
  readonly #current = new Map<string, Stored>();
  /** Results not yet within their horizon, by dueAt (replaced ones are dropped when they surface). */
  readonly #waiting = new MinHeap<Stored>((a, b) => a.dueAt < b.dueAt);
  /** Results within their horizon. */
  readonly #due = new Map<string, Stored>();
  readonly #flagged = new Map<string, EntityKey>();

  constructor(settings: RefreshAheadSettings) {
    this.#s = settings;
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
    this.#waiting.push(e);
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
   * Results within their refresh horizon (an expired one has no stored
   * result: `expiresAt` undefined), limited to the schedule's task type and
   * tenant, in key order. An expired result is offered once, then forgotten.
   */
  nearExpiry(now: number, spec: ScheduleSpec): NearExpiry[] {
    for (let e = this.#waiting.peek(); e !== undefined && e.dueAt <= now; e = this.#waiting.peek()) {
      this.#waiting.pop();
      if (this.#current.get(e.key) === e) this.#due.set(e.key, e);
    }
    const out: NearExpiry[] = [];
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
        expiresAt: expired ? undefined : e.expiresAt,
        ttlMs: e.ttlMs,
      });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
