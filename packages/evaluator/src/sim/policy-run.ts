import type { TraceEvent, TraceRead } from "../trace/record.js";
import {
  type ComputeReason,
  isAhead,
  MetricsCollector,
  type PolicyMetrics,
  type ReadClass,
  summarize,
} from "./metrics.js";
import type { TypeTable } from "./options.js";
import type { Policy, PolicyContext } from "./policy.js";
import type { Scheduler } from "./scheduler.js";
import { TokenBucket } from "./token-bucket.js";

/**
 * One policy's replay: its simulated cache (results with computed-at,
 * expiry and the reason that put them there), its simulated compute (a
 * result lands `latency` after it starts), its budget, and its metrics.
 *
 * A read finds a fresh result (hit), a result within its stale grace (served
 * stale and revalidated), a compute in flight (it waits: a miss, and for a
 * prefetch, a late one), or nothing (computed on demand and cached:
 * cache-aside). Demand computes are never refused: a user is waiting.
 */
interface Entry {
  expiresAt: number;
  staleUntil: number;
  reason: ComputeReason;
  reads: number;
  /** The chance of a read the policy gave it, where it gave one. */
  probability: number | undefined;
}

interface Flight {
  readyAt: number;
  reason: ComputeReason;
  taskType: string;
  /** Reads that waited on it. */
  waiters: number;
  probability: number | undefined;
}

export interface RunSettings {
  startMs: number;
  endMs: number;
  bins: number;
  budgetPerSecond: number;
  burst: number;
  /** A/B key split: keys this run may precompute. */
  accepts?: (key: string) => boolean;
}

export class PolicyRun {
  readonly policy: Policy;
  readonly metrics: MetricsCollector;
  readonly #entries = new Map<string, Entry>();
  readonly #flights = new Map<string, Flight>();
  readonly #scheduler: Scheduler;
  readonly #types: TypeTable;
  readonly #bucket: TokenBucket;
  readonly #settings: RunSettings;
  readonly ctx: PolicyContext;

  constructor(policy: Policy, scheduler: Scheduler, types: TypeTable, s: RunSettings) {
    this.policy = policy;
    this.#scheduler = scheduler;
    this.#types = types;
    this.#settings = s;
    this.metrics = new MetricsCollector(s.startMs, s.endMs, s.bins);
    this.#bucket = new TokenBucket(s.budgetPerSecond, s.burst, s.startMs);
    const entries = this.#entries;
    const flights = this.#flights;
    this.ctx = {
      cache: {
        freshUntil: (key) => {
          const e = entries.get(key);
          return e !== undefined && e.expiresAt > scheduler.now ? e.expiresAt : undefined;
        },
        readyAt: (key) => flights.get(key)?.readyAt,
      },
      clock: scheduler.clock,
      now: () => scheduler.now,
      at: (time, action) => scheduler.at(time, action),
      precompute: (key, taskType, reason, neededUntil, probability) =>
        this.#precompute(key, taskType, reason, neededUntil, probability),
      tokens: () => this.#bucket.available(scheduler.now),
      budget: { perSecond: s.budgetPerSecond, burst: this.#bucket.burst },
      ttlMs: (t) => types.of(t).ttlMs,
      latencyMs: (t) => types.of(t).latencyMs,
    };
  }

  async start(): Promise<void> {
    await this.policy.start?.(this.ctx, this.#settings.startMs);
  }

  read(r: TraceRead, cls: ReadClass): void | Promise<void> {
    const now = r.time;
    const type = this.#types.of(r.taskType);
    const m = this.metrics;
    if (!this.policy.caches) {
      m.reason("miss").computes++;
      m.reason("miss").used++;
      m.read(now, r.taskType, cls, "miss", type.latencyMs, 0);
      return this.policy.onRead?.(r, { outcome: "miss", cls, computeMs: type.latencyMs }, this.ctx);
    }
    const e = this.#entries.get(r.key);
    let outcome: "hit" | "stale" | "miss";
    let computeMs = 0;
    if (e !== undefined && now < e.expiresAt) {
      outcome = "hit";
      if (e.reads++ === 0) this.#used(e);
      m.reason(e.reason).hits++;
      m.read(now, r.taskType, cls, "hit", type.latencyMs, type.latencyMs);
    } else if (e !== undefined && now < e.staleUntil) {
      outcome = "stale";
      if (e.reads++ === 0) this.#used(e);
      m.stalenessMsSum += now - e.expiresAt;
      m.read(now, r.taskType, cls, "stale", type.latencyMs, type.latencyMs);
      if (!this.#flights.has(r.key)) this.#start(r.key, r.taskType, "miss", 0, undefined);
    } else {
      outcome = "miss";
      const f = this.#flights.get(r.key);
      if (f !== undefined) {
        // Waits for the compute already running: coalesced, and for a prefetch, late.
        const wait = f.readyAt - now;
        computeMs = wait;
        if (f.waiters++ === 0 && isAhead(f.reason)) m.reason(f.reason).late++;
        m.read(now, r.taskType, cls, "miss", type.latencyMs, Math.max(0, type.latencyMs - wait));
      } else {
        computeMs = type.latencyMs;
        this.#start(r.key, r.taskType, "miss", 1, undefined);
        m.read(now, r.taskType, cls, "miss", type.latencyMs, 0);
      }
    }
    return this.policy.onRead?.(r, { outcome, cls, computeMs }, this.ctx);
  }

  event(e: TraceEvent): void | Promise<void> {
    return this.policy.onEvent?.(e, this.ctx);
  }

  future(r: TraceRead): void {
    this.policy.onFuture?.(r, this.ctx);
  }

  #precompute(
    key: string,
    taskType: string,
    reason: ComputeReason,
    neededUntil: number | undefined,
    probability: number | undefined,
  ): boolean {
    const now = this.#scheduler.now;
    if (this.#flights.has(key)) return false;
    if (this.#settings.accepts !== undefined && !this.#settings.accepts(key)) return false;
    const e = this.#entries.get(key);
    if (e !== undefined && e.expiresAt > (neededUntil ?? now)) return false;
    if (!this.#bucket.take(now)) return false;
    this.#start(key, taskType, reason, 0, probability);
    return true;
  }

  #start(
    key: string,
    taskType: string,
    reason: ComputeReason,
    waiters: number,
    probability: number | undefined,
  ): void {
    const type = this.#types.of(taskType);
    const f: Flight = {
      readyAt: this.#scheduler.now + type.latencyMs,
      reason,
      taskType,
      waiters,
      probability,
    };
    this.#flights.set(key, f);
    this.metrics.reason(reason).computes++;
    this.#scheduler.at(f.readyAt, () => this.#land(key, f));
  }

  #land(key: string, f: Flight): void {
    this.#flights.delete(key);
    const type = this.#types.of(f.taskType);
    const now = this.#scheduler.now;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#resolve(old);
    const e: Entry = {
      expiresAt: now + type.ttlMs,
      staleUntil: now + type.ttlMs + type.graceMs,
      reason: f.reason,
      reads: f.waiters,
      probability: f.probability,
    };
    if (f.waiters > 0) this.#used(e);
    this.#entries.set(key, e);
    this.policy.onStored?.(key, f.taskType, e.expiresAt, f.reason, this.ctx);
  }

  /** An entry's first read (or a read that waited for it). */
  #used(e: Entry): void {
    this.metrics.reason(e.reason).used++;
    if (e.probability !== undefined) this.metrics.calibration.resolve(e.reason, e.probability, true);
  }

  /** An entry leaves (replaced or expired by the end) unread: wasted. */
  #wasted(e: Entry): void {
    this.metrics.reason(e.reason).wasted++;
    if (e.probability !== undefined) this.metrics.calibration.resolve(e.reason, e.probability, false);
  }

  /** An entry leaves (replaced): unread means wasted. */
  #resolve(e: Entry): void {
    if (e.reads === 0) this.#wasted(e);
  }

  async finish(): Promise<PolicyMetrics> {
    const now = this.#scheduler.now;
    for (const e of this.#entries.values()) {
      if (e.reads > 0) continue;
      if (e.expiresAt <= now) this.#wasted(e);
      else {
        this.metrics.pending++;
        if (isAhead(e.reason)) this.metrics.pendingAhead++;
      }
    }
    // Computes still running at the end are neither used nor wasted.
    for (const f of this.#flights.values()) {
      if (f.waiters > 0) continue;
      this.metrics.pending++;
      if (isAhead(f.reason)) this.metrics.pendingAhead++;
    }
    await this.policy.finish?.();
    const durationS = Math.max(0, (this.#settings.endMs - this.#settings.startMs) / 1000);
    return summarize(this.policy.name, this.metrics, {
      perSecond: this.#settings.budgetPerSecond,
      tokens: this.#bucket.burst + durationS * this.#settings.budgetPerSecond,
      used: this.#bucket.granted,
      refused: this.#bucket.refused,
    });
  }
}
