import { type TaskType, TaskTypeRegistry } from "@prescient/core";
import {
  type EntityKey,
  nextWakeMs,
  type OffPeak,
  type RefreshAheadSettings,
  type RefreshCandidate,
  refreshHorizonMs,
  type ScheduleSpec,
  windowFor,
} from "@prescient/precomputer";
import type { PolicyContext } from "../../sim/policy.js";

/**
 * The precomputer's schedules under the virtual clock: each schedule wakes
 * when its runner would (`nextWakeMs`) and runs once per window
 * (`windowFor`), as the live ScheduleRunner and run store make it; there is
 * one replica, so a window is never claimed twice.
 */
export function driveSchedule(
  ctx: PolicyContext,
  spec: ScheduleSpec,
  offPeak: (timing: { windowMinutes: number; timeZone: string }) => Promise<OffPeak>,
  job: (spec: ScheduleSpec) => Promise<void>,
): Promise<void> {
  let lastStart: number | undefined;
  const tick = async (): Promise<void> => {
    const t = spec.timing;
    const w = windowFor(t, ctx.now(), t.kind === "off_peak" ? await offPeak(t) : undefined);
    if (w === undefined || w.start === lastStart) return;
    lastStart = w.start;
    await job(spec);
  };
  const wake = (): void =>
    ctx.at(ctx.now() + Math.max(1, nextWakeMs(spec, ctx.now())), async () => {
      await tick();
      wake();
    });
  // A window already open at start is run now, as the live runner does.
  return tick().then(wake);
}

/**
 * The task types named, with the replay's TTLs (the --ttl overrides
 * included), for the precomputer functions that read a type's TTL.
 */
export function simulatedTypes(
  names: Iterable<string>,
  configured: TaskTypeRegistry,
  ctx: PolicyContext,
): TaskTypeRegistry {
  const types: TaskType[] = [];
  for (const name of new Set(names)) {
    const base: TaskType = configured.has(name)
      ? configured.get(name)
      : {
          name,
          kind: "external",
          model: name,
          modelVersion: "",
          inputs: [],
          outputs: [],
          ttlMs: 0,
          staleGraceMs: 0,
          xfetchBeta: 1,
          defaultPriority: 5,
          description: "",
        };
    types.push({ ...base, ttlMs: ctx.ttlMs(name) });
  }
  return new TaskTypeRegistry(types);
}

interface Stored extends EntityKey {
  storedAt: number;
  expiresAt: number;
  ttlMs: number;
  /** When the result enters its refresh horizon. */
  dueAt: number;
  /** Reads since the result was stored. */
  reads: number;
}

/**
 * What the refresh-ahead job reads from the cache: the stored results with
 * their demand (reads per second over the result's lifetime so far), and the
 * keys XFetch flagged on hits, taken up to the job's limit as the live
 * cache's `takeRefreshDue` gives them. Results wait in a heap until they
 * enter their refresh horizon, so a run looks only at those near expiry.
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

  constructor(settings: RefreshAheadSettings) {
    this.#s = settings;
  }

  stored(k: EntityKey, expiresAt: number, ttlMs: number, now: number): void {
    const e: Stored = {
      ...k,
      storedAt: now,
      expiresAt,
      ttlMs,
      dueAt: expiresAt - refreshHorizonMs(ttlMs, this.#s),
      reads: 0,
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

  read(key: string): void {
    const e = this.#current.get(key);
    if (e !== undefined) e.reads++;
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
        demand: e.reads / Math.max(1, (Math.min(now, e.expiresAt) - e.storedAt) / 1000),
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
