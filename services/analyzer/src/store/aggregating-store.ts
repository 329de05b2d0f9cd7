import type { ActionEvent } from "../core/events.js";
import {
  type DeltaSize,
  emptyCounterDelta,
  mergeCounterDelta,
  splitCounterDelta,
} from "../core/merge-counter-delta.js";
import type {
  ActionLimits,
  ActionRecord,
  AnalyzerStore,
  Capacities,
  CounterDelta,
  KeyCount,
  LaunchRecord,
  LearningRecord,
  MemberCount,
  ProfileRecord,
  Scaled,
  SuccessorsRecord,
  TypeStatsRecord,
  UserHistory,
} from "./analyzer-store.js";

/** Bounds of the ingest pre-aggregation; defaults are applied in options.ts. */
export interface IngestAggregationOptions {
  /** Longest an acknowledged update is held before it is written, ms: 1 to 1000. */
  flushIntervalMs: number;
  /** Distinct members held (keys, entities, successor pairs...) before an early flush. */
  maxEntries: number;
  /** Estimated bytes held before an early flush. */
  maxBytes: number;
}

export interface AggregatingStoreHooks {
  /** A timed flush failed; what it held is kept and tried again next interval. */
  onFlushError?: (error: unknown) => void;
  /** Events acknowledged but never written: the last flush, on close, failed. */
  onLost?: (events: number, error: unknown) => void;
}

/** Members per store write at most, so one Lua call never holds Redis (and its other clients) for long. */
const writeEntries = 16_384;

interface Held {
  delta: CounterDelta;
  capacities: Capacities;
  size: DeltaSize;
  /** The parts it is written in, once cut, and how many are written. */
  parts?: CounterDelta[];
  written: number;
}

/**
 * Pre-aggregates query counters in process before the store: the deltas of
 * ingest batches under one landmark are added together for up to one flush
 * interval, so a key read a thousand times in that second is one update,
 * and Zipf-shaped traffic collapses to its distinct keys.
 *
 * What it promises:
 * - An acknowledged batch (applyCounters resolved) is written within the
 *   interval, or at close, which flushes (SIGTERM drains the host, then
 *   closes the store). A crash loses at most one interval.
 * - Memory is bounded: a batch that would take it past `maxEntries` or
 *   `maxBytes` first waits for what is held to be written; if that write
 *   fails, the batch fails (is not acknowledged) rather than being dropped later.
 * - A failed timed write is kept and tried again; nothing acknowledged is dropped.
 * - Reads of counters flush first, so they see every acknowledged event, as
 *   the store alone would.
 *
 * Only counters are held; order-sensitive state (sequences, streams,
 * learning) is updated per event before the delta is built, exactly as
 * without aggregation, and actions and launches pass straight through.
 */
export class AggregatingStore implements AnalyzerStore {
  readonly #inner: AnalyzerStore;
  readonly #o: IngestAggregationOptions;
  readonly #hooks: AggregatingStoreHooks;
  #pending: Held | undefined;
  /** Sealed deltas waiting to be written, oldest first. */
  readonly #sealed: Held[] = [];
  /** Pending plus sealed. */
  readonly #held: DeltaSize = { entries: 0, bytes: 0 };
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #closed = false;

  constructor(inner: AnalyzerStore, options: IngestAggregationOptions, hooks: AggregatingStoreHooks = {}) {
    const o = options;
    if (!Number.isInteger(o.flushIntervalMs) || o.flushIntervalMs < 1 || o.flushIntervalMs > 1000)
      throw new RangeError(
        `ingestFlushIntervalMs must be an integer from 1 to 1000, not ${o.flushIntervalMs}`,
      );
    for (const [name, v] of [
      ["ingestMaxEntries", o.maxEntries],
      ["ingestMaxBytes", o.maxBytes],
    ] as const)
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RangeError(`${name} must be a positive integer, not ${v}`);
    this.#inner = inner;
    this.#o = options;
    this.#hooks = hooks;
  }

  /** Distinct members and estimated bytes held now (for tests and metrics). */
  get held(): Readonly<DeltaSize> {
    return this.#held;
  }

  ready(): Promise<void> {
    return this.#inner.ready();
  }

  async applyCounters(delta: CounterDelta, capacities: Capacities): Promise<void> {
    if (this.#closed) return this.#inner.applyCounters(delta, capacities);
    // A cheap bound, not a pass over the delta: an event adds at most its key, entity, tenant,
    // type, compute bucket, hour and successor source and pair.
    const size = { entries: delta.events * 8, bytes: delta.events * 8 * 160 };
    // Full: write what is held first. If that fails, this batch fails too, unacknowledged.
    if (this.#held.entries > 0 && this.#over(size)) await this.flush();
    let pending = this.#pending;
    if (pending !== undefined && !compatible(pending, delta, capacities)) {
      this.#seal();
      pending = undefined;
    }
    if (pending === undefined) {
      pending = { delta: emptyCounterDelta(delta), capacities, size: { entries: 0, bytes: 0 }, written: 0 };
      this.#pending = pending;
    }
    const added = mergeCounterDelta(pending.delta, delta);
    pending.size.entries += added.entries;
    pending.size.bytes += added.bytes;
    this.#held.entries += added.entries;
    this.#held.bytes += added.bytes;
    // This batch is acknowledged now; a write it starts fails to the timer's retry, not to its caller.
    if (this.#over({ entries: 0, bytes: 0 })) this.#flushInBackground();
    else this.#arm();
  }

  /** Writes everything held now; resolves once it is in the store. */
  flush(): Promise<void> {
    this.#seal();
    return this.#drain();
  }

  async topKeys(limit: number): Promise<Scaled<KeyCount[]>> {
    await this.flush();
    return this.#inner.topKeys(limit);
  }

  async keyCounts(keys: readonly string[]): Promise<Scaled<(KeyCount | undefined)[]>> {
    await this.flush();
    return this.#inner.keyCounts(keys);
  }

  async keyWeights(keys: readonly string[]): Promise<Scaled<(number | undefined)[]>> {
    await this.flush();
    return this.#inner.keyWeights(keys);
  }

  async topMembers(family: "entities" | "tenants", limit: number): Promise<Scaled<MemberCount[]>> {
    await this.flush();
    return this.#inner.topMembers(family, limit);
  }

  async typeStats(): Promise<Scaled<TypeStatsRecord[]>> {
    await this.flush();
    return this.#inner.typeStats();
  }

  async profile(): Promise<Scaled<ProfileRecord>> {
    await this.flush();
    return this.#inner.profile();
  }

  async successors(source: string, limit: number): Promise<Scaled<SuccessorsRecord>> {
    await this.flush();
    return this.#inner.successors(source, limit);
  }

  appendActions(events: readonly ActionEvent[], limits: ActionLimits): Promise<void> {
    return this.#inner.appendActions(events, limits);
  }

  userActions(tenant: string, userId: string, limit: number): Promise<ActionRecord[]> {
    return this.#inner.userActions(tenant, userId, limit);
  }

  histories(): Promise<UserHistory[]> {
    return this.#inner.histories();
  }

  removeActionsBefore(cutoff: number): Promise<number> {
    return this.#inner.removeActionsBefore(cutoff);
  }

  putLaunch(launch: LaunchRecord): Promise<void> {
    return this.#inner.putLaunch(launch);
  }

  launchesBetween(from: number, to: number, tenant?: string): Promise<LaunchRecord[]> {
    return this.#inner.launchesBetween(from, to, tenant);
  }

  removeLaunchesBefore(cutoff: number): Promise<number> {
    return this.#inner.removeLaunchesBefore(cutoff);
  }
  putLearning(record: LearningRecord): Promise<void> {
    return this.#inner.putLearning(record);
  }

  learningRecords(only?: (tenant: string) => boolean): AsyncIterable<LearningRecord> {
    return this.#inner.learningRecords(only);
  }

  removeLearningBefore(cutoff: number): Promise<number> {
    return this.#inner.removeLearningBefore(cutoff);
  }

  /** Flushes what is held, then closes the store; later batches are written through. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      try {
        await this.flush();
      } catch (e) {
        const lost = this.#sealed.reduce((n, h) => n + (h.written === 0 ? h.delta.events : 0), 0);
        this.#hooks.onLost?.(lost, e);
      }
    }
    await this.#inner.close();
  }

  #over(extra: DeltaSize): boolean {
    return (
      this.#held.entries + extra.entries > this.#o.maxEntries ||
      this.#held.bytes + extra.bytes > this.#o.maxBytes
    );
  }

  #seal(): void {
    if (this.#pending === undefined) return;
    this.#sealed.push(this.#pending);
    this.#pending = undefined;
  }

  /** The interval starts with the first held batch, so no update waits longer than it. */
  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flushInBackground();
    }, this.#o.flushIntervalMs);
    // Holding data never keeps the process alive: the host's shutdown flushes it.
    this.#timer.unref();
  }

  #flushInBackground(): void {
    this.flush().catch((e: unknown) => {
      this.#hooks.onFlushError?.(e);
      if (this.#sealed.length > 0 || this.#pending !== undefined) this.#arm();
    });
  }

  async #drain(): Promise<void> {
    while (this.#sealed.length > 0) {
      this.#writing ??= this.#writeOldest().finally(() => {
        this.#writing = undefined;
      });
      await this.#writing;
    }
  }

  /** Writes the oldest sealed delta, part by part; a failed part is retried from where it stopped. */
  async #writeOldest(): Promise<void> {
    const h = this.#sealed[0];
    if (h === undefined) return;
    h.parts ??= splitCounterDelta(h.delta, writeEntries);
    while (h.written < h.parts.length) {
      await this.#inner.applyCounters(h.parts[h.written]!, h.capacities);
      h.written++;
    }
    this.#sealed.shift();
    this.#held.entries -= h.size.entries;
    this.#held.bytes -= h.size.bytes;
  }
}

/** Deltas add only under one landmark, rates and capacities; a change starts a new held delta. */
function compatible(held: Held, delta: CounterDelta, capacities: Capacities): boolean {
  const a = held.delta;
  if (a.landmark !== delta.landmark) return false;
  const r = a.rates;
  const s = delta.rates;
  if (
    r !== s &&
    (r.demand !== s.demand || r.keys !== s.keys || r.profile !== s.profile || r.successors !== s.successors)
  )
    return false;
  const c = held.capacities;
  return (
    c === capacities ||
    (c.keys === capacities.keys &&
      c.entities === capacities.entities &&
      c.tenants === capacities.tenants &&
      c.types === capacities.types &&
      c.successorSources === capacities.successorSources &&
      c.successorsPerSource === capacities.successorsPerSource)
  );
}
