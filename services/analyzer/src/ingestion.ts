import type { AnalyzerObserver } from "./analyzer-observer.js";
import { buildCounterDelta } from "./core/counter-delta.js";
import {
  type ActionEventInput,
  type EventLimits,
  type IngestResult,
  type QueryEvent,
  type QueryEventInput,
  validateActionEvent,
  validateQueryEvent,
} from "./core/events.js";
import type { DecayRates } from "./core/forward-decay.js";
import type { ReadAheadQueue } from "./core/read-ahead-queue.js";
import { type SequenceTracker, stepsOf } from "./core/sequence-tracker.js";
import type { SequentialStreams } from "./core/sequential-streams.js";
import type { SuccessorChains } from "./core/successor-chains.js";
import type { Learning } from "./learning.js";
import { QueryStream } from "./query-stream.js";
import type { AnalyzerSettings } from "./settings.js";
import type { AnalyzerStore, Capacities } from "./store/analyzer-store.js";

export interface IngestionDeps {
  settings: AnalyzerSettings;
  rates: DecayRates;
  store: AnalyzerStore;
  sequences: SequenceTracker;
  streams: SequentialStreams;
  chains: SuccessorChains;
  readAhead: ReadAheadQueue;
  learning: Learning;
  /** Told after each batch of actions is stored, with how many were accepted. */
  onActionsRecorded: (accepted: number) => void;
  observer: AnalyzerObserver;
}

/**
 * Validates query and action events and records them: query events as
 * decayed counters (with their sessions' key sequences), actions appended to
 * the per-user logs. Rejections name stream positions and are capped.
 */
export class Ingestion {
  readonly #settings: AnalyzerSettings;
  readonly #rates: DecayRates;
  readonly #store: AnalyzerStore;
  readonly #sequences: SequenceTracker;
  readonly #streams: SequentialStreams;
  readonly #chains: SuccessorChains;
  readonly #readAhead: ReadAheadQueue;
  readonly #capacities: Capacities;
  readonly #learning: Learning;
  readonly #onActionsRecorded: (accepted: number) => void;
  readonly #observer: AnalyzerObserver;

  constructor(deps: IngestionDeps) {
    const s = deps.settings;
    this.#settings = s;
    this.#rates = deps.rates;
    this.#store = deps.store;
    this.#sequences = deps.sequences;
    this.#streams = deps.streams;
    this.#chains = deps.chains;
    this.#readAhead = deps.readAhead;
    this.#onActionsRecorded = deps.onActionsRecorded;
    this.#learning = deps.learning;
    this.#observer = deps.observer;
    this.#capacities = {
      keys: s.keyCapacity,
      entities: s.entityCapacity,
      tenants: s.tenantCapacity,
      types: s.typeCapacity,
      successorSources: s.successorSourceCapacity,
      successorsPerSource: s.successorsPerKey,
    };
  }

  /** See Analyzer.recordQueries. */
  async recordQueries(inputs: readonly QueryEventInput[], result: IngestResult, offset = 0): Promise<void> {
    const events: QueryEvent[] = [];
    this.#validateQueries(inputs, result, offset, events);
    if (events.length === 0) return;
    await this.#applyQueries(events);
    result.accepted += events.length;
  }

  /** See Analyzer.queryStream. */
  queryStream(result: IngestResult): QueryStream {
    return new QueryStream(
      (inputs, offset, into) => this.#validateQueries(inputs, result, offset, into),
      (events) => this.#applyQueries(events),
      result,
    );
  }

  async recordActions(inputs: readonly ActionEventInput[], result: IngestResult): Promise<void> {
    if (this.#oversized(inputs.length, result, 0, "action")) return;
    const limits = this.limits();
    const events = [];
    for (const [i, input] of inputs.entries()) {
      const v = validateActionEvent(input, limits);
      if (v.ok) events.push(v.event);
      else this.#reject(result, i, v.reason);
    }
    this.#observer.events("action", "rejected", inputs.length - events.length);
    try {
      await this.#store.appendActions(events, {
        perUser: this.#settings.maxActionsPerUser,
        users: this.#settings.maxUsers,
      });
    } catch (e) {
      this.#observer.events("action", "dropped", events.length);
      throw e;
    }
    this.#observer.events("action", "accepted", events.length);
    this.#learning.observeActions(events);
    result.accepted += events.length;
    this.#onActionsRecorded(events.length);
  }

  limits(): EventLimits {
    return {
      now: this.#settings.clock.now(),
      maxClockSkewMs: this.#settings.maxClockSkewMs,
      maxAgeMs: this.#settings.daysToKeep * 86_400_000,
    };
  }

  /** An oversized message is rejected event by event, so the rest of its stream still counts. */
  #oversized(n: number, result: IngestResult, offset: number, kind: "query" | "action"): boolean {
    if (n <= this.#settings.maxEventsPerMessage) return false;
    this.#observer.events(kind, "rejected", n);
    const reason = `the message holds ${n} events; the limit is ${this.#settings.maxEventsPerMessage}: split it`;
    for (let i = 0; i < n; i++) this.#reject(result, offset + i, reason);
    return true;
  }

  #validateQueries(
    inputs: readonly QueryEventInput[],
    result: IngestResult,
    offset: number,
    into: QueryEvent[],
  ): void {
    if (this.#oversized(inputs.length, result, offset, "query")) return;
    const limits = this.limits();
    let rejected = 0;
    for (let i = 0; i < inputs.length; i++) {
      const v = validateQueryEvent(inputs[i]!, limits);
      if (v.ok) into.push(v.event);
      else {
        rejected++;
        this.#reject(result, offset + i, v.reason);
      }
    }
    this.#observer.events("query", "rejected", rejected);
  }

  async #applyQueries(events: QueryEvent[]): Promise<void> {
    // Sequences need time order; a batch is nearly always sorted already.
    for (let i = 1; i < events.length; i++)
      if (events[i]!.time < events[i - 1]!.time) {
        events.sort((a, b) => a.time - b.time);
        break;
      }
    const depth = this.#settings.readAheadDepth;
    const now = this.#settings.clock.now();
    // A key offered now is taken within the readahead period, then computed.
    const waitMs = this.#readAhead.periodMs;
    let offered = 0;
    let chained = 0;
    const chains = this.#chains.options.depth > 0;
    const steps = stepsOf(events, this.#sequences);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const step = steps[i];
      this.#readAhead.read(e.key);
      const numbered = this.#streams.observe(e.key, e.time, e.computeMs);
      if (chains && step !== undefined) this.#chains.learn(step);
      const leads = chains && this.#chains.leadsOn(e.key);
      if (!numbered && !leads) continue;
      const lead = waitMs + this.#streams.computeMs(`${e.tenant}/${e.taskType}`);
      const at = Math.max(now, e.time);
      if (numbered) {
        const ahead = this.#streams.predict(e.key, depth, at, lead);
        offered += ahead.length;
        this.#readAhead.offer(ahead);
      }
      if (leads) {
        // The chain's first steps are due from the read's time; the read may have been reported late.
        const next = this.#chains.predict(e.key, at, lead + (at - e.time));
        chained += next.length;
        if (next.length > 0) this.#readAhead.offer(next);
      }
    }
    this.#observer.offered("sequence", offered);
    this.#observer.offered("successor", chained);
    this.#learning.observeQueries(events);
    try {
      await this.#store.applyCounters(buildCounterDelta(events, this.#rates, steps), this.#capacities);
    } catch (e) {
      this.#observer.events("query", "dropped", events.length);
      throw e;
    }
    this.#observer.events("query", "accepted", events.length);
  }

  #reject(result: IngestResult, index: number, reason: string): void {
    result.rejected++;
    if (result.rejections.length < this.#settings.maxRejectionsReported)
      result.rejections.push({ index, reason });
  }
}
