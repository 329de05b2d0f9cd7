import { InvalidArgumentError } from "@prescient/core";
import { type AnalyzerLog, silentLog } from "./analyzer-log.js";
import { type AnalyzerObserver, unobserved } from "./analyzer-observer.js";
import type { Pattern } from "./core/demand-ranking.js";
import type { DomainEventInput } from "./core/domain-events.js";
import type { RelatedEntity } from "./core/entity-relations.js";
import type { ActionEventInput, IngestResult, QueryEventInput } from "./core/events.js";
import type { LearnedRule } from "./core/fan-out-learner.js";
import type { DecayRates } from "./core/forward-decay.js";
import type { LaunchInput } from "./core/launches.js";
import { type LearningSnapshot, parseLearningSnapshot } from "./core/learning-snapshot.js";
import type { OffPeakWindow } from "./core/off-peak.js";
import { ReadAheadQueue } from "./core/read-ahead-queue.js";
import { SequenceTracker } from "./core/sequence-tracker.js";
import { SequentialStreams } from "./core/sequential-streams.js";
import type { TypeSummary } from "./core/type-stats.js";
import { DemandQueries } from "./demand-queries.js";
import { Ingestion } from "./ingestion.js";
import { LaunchQueries } from "./launch-queries.js";
import { Learning } from "./learning.js";
import type { ModelPublisher, NextActionScorer } from "./model/ports.js";
import { type NextActionPrediction, NextActionPredictor } from "./next-action-predictor.js";
import { NextActionRetrainer, type RetrainReport } from "./next-action-retrainer.js";
import type { QueryStream } from "./query-stream.js";
import {
  type AnalyzerSettings,
  type AnalyzerSettingsInput,
  decayRatesOf,
  resolveSettings,
} from "./settings.js";
import type { AnalyzerStore, LaunchRecord } from "./store/analyzer-store.js";

export interface AnalyzerDeps {
  store: AnalyzerStore;
  publisher: ModelPublisher;
  scorer: NextActionScorer;
  log?: AnalyzerLog;
  /** Told of events, retrains and predictions, for metrics. Default: nobody. */
  observer?: AnalyzerObserver;
}

/**
 * Records adoptLearning replaces at once, at most: each replacement passes
 * over every learned map once, and the parsed records are held until then.
 */
const adoptBatch = { records: 64, bytes: 32 * 1024 * 1024 };

/**
 * The analyzer's core: ingestion, demand ranking, off-peak detection,
 * launches, next-action and next-key prediction, retraining and retention,
 * over an injected clock, store, model publisher and scorer. It imports
 * neither gRPC nor Redis; the service is a thin adapter over it, and the
 * trace evaluator runs it as is under a virtual clock.
 *
 * It composes one part per concern (ingestion, demand and launch queries,
 * next-action prediction and retraining) over one settings object and store.
 */
export class Analyzer {
  readonly settings: AnalyzerSettings;
  readonly rates: DecayRates;
  readonly #store: AnalyzerStore;
  readonly #sequences: SequenceTracker;
  readonly #streams: SequentialStreams;
  readonly #readAhead: ReadAheadQueue;
  readonly #ingestion: Ingestion;
  readonly #demand: DemandQueries;
  readonly #launches: LaunchQueries;
  readonly #predictor: NextActionPredictor;
  readonly #retrainer: NextActionRetrainer;
  readonly #learning: Learning;
  readonly #observer: AnalyzerObserver;
  readonly #log: AnalyzerLog;
  /** The save in flight: saves run one at a time, so a slow store never holds two snapshots. */
  #saving: Promise<number> | undefined;
  /** The last save or takeover queued: each runs after the one before (#afterSaves). */
  #handing: Promise<unknown> = Promise.resolve();
  /** Whether start() has read the saved state: a save before that would overwrite it with less. */
  #restored = false;

  constructor(deps: AnalyzerDeps, settings?: AnalyzerSettingsInput) {
    this.settings = resolveSettings(settings);
    const s = this.settings;
    this.#store = deps.store;
    const observer = deps.observer ?? unobserved;
    this.#observer = observer;
    this.#log = deps.log ?? silentLog;
    this.rates = decayRatesOf(s);
    this.#sequences = new SequenceTracker(s.sequenceCapacity, s.sessionGapMs);
    this.#streams = new SequentialStreams({ capacity: s.sequenceCapacity, idleMs: s.streamIdleMs });
    this.#readAhead = new ReadAheadQueue(s.readAheadCapacity);
    const model = {
      settings: s,
      store: deps.store,
      publisher: deps.publisher,
      scorer: deps.scorer,
      log: deps.log,
    };
    this.#predictor = new NextActionPredictor(model);
    this.#retrainer = new NextActionRetrainer({ ...model, predictor: this.#predictor, observer });
    const readAhead = this.#readAhead;
    this.#learning = new Learning(s, {
      offer: (key, confidence) => readAhead.offerKey(key, confidence),
      floor: () => readAhead.floor,
      offered: (count) => observer.offered("next_read", count),
    });
    this.#ingestion = new Ingestion({
      learning: this.#learning,
      settings: s,
      rates: this.rates,
      store: deps.store,
      sequences: this.#sequences,
      streams: this.#streams,
      chains: this.#learning.chains,
      readAhead: this.#readAhead,
      onActionsRecorded: (accepted) => this.#predictor.actionsRecorded(accepted),
      observer,
    });
    this.#demand = new DemandQueries(s, this.rates, deps.store, this.#streams, observer);
    this.#launches = new LaunchQueries(s, deps.store);
  }

  /**
   * Loads the newest published next-action version, if any, and the learned
   * state the store holds (saveLearning), so a restart serves both at once.
   */
  async start(): Promise<void> {
    await this.#store.ready();
    await this.#predictor.syncCurrent();
    await this.#restoreLearning();
  }

  /**
   * Saves the learned state (fan-out rules, next reads, relations, successor
   * chains) of every tenant whose state changed since its last save, one
   * record per tenant; answers how many were saved. With `only`, just the
   * changed tenants it accepts (a ring replica's own); the others stay owed.
   * A tenant the store failed to take is saved again next time. One save or
   * takeover runs at a time: a call for every tenant, while another such call
   * is pending, shares it; every other call waits its turn. Before start()
   * has read what was saved, nothing is.
   */
  saveLearning(only?: (tenant: string) => boolean): Promise<number> {
    if (only !== undefined) return this.#afterSaves(() => this.#saveLearning(only));
    this.#saving ??= this.#afterSaves(() => this.#saveLearning()).finally(() => {
      this.#saving = undefined;
    });
    return this.#saving;
  }

  /**
   * Replaces the learned state of the tenants `only` accepts by what the
   * store holds for them, and answers how many it replaced. A ring replica
   * that takes tenants over calls it once their previous owners have saved
   * them (Learning.replace says why a restore would not do). A record this
   * version cannot read leaves the tenant as it was.
   */
  adoptLearning(only: (tenant: string) => boolean): Promise<number> {
    return this.#afterSaves(async () => {
      let replaced = 0;
      let batch: Array<{ tenant: string; snapshot: LearningSnapshot }> = [];
      let bytes = 0;
      // In batches: records may be megabytes each, and many tenants may move at once. A tenant is
      // replaced only with its record read in full, so a store failing midway leaves the rest as they were.
      const flush = (): void => {
        this.#learning.replace(batch);
        replaced += batch.length;
        batch = [];
        bytes = 0;
      };
      for await (const r of this.#savedSnapshots(only)) {
        batch.push({ tenant: r.tenant, snapshot: r.snapshot });
        bytes += r.bytes;
        if (batch.length >= adoptBatch.records || bytes >= adoptBatch.bytes) flush();
      }
      if (batch.length > 0) flush();
      this.#observer.learnedState("restored", replaced);
      return replaced;
    });
  }

  /** Runs `job` once every save and adoption before it has ended, so two never interleave. */
  #afterSaves<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#handing.then(job, job);
    this.#handing = run.catch(() => {});
    return run;
  }

  async #saveLearning(only?: (tenant: string) => boolean): Promise<number> {
    if (!this.#restored) return 0;
    const snapshots = this.#learning.snapshots(only);
    const savedAt = this.settings.clock.now();
    for (const [i, { tenant, snapshot }] of snapshots.entries()) {
      try {
        await this.#store.putLearning({ tenant, savedAt, body: JSON.stringify(snapshot) });
      } catch (e) {
        this.#observer.learnedState("saved", i);
        this.#learning.changed(snapshots.slice(i).map((s) => s.tenant));
        throw e;
      }
    }
    this.#observer.learnedState("saved", snapshots.length);
    return snapshots.length;
  }

  async #restoreLearning(): Promise<void> {
    let restored = 0;
    for await (const r of this.#savedSnapshots()) {
      this.#learning.restore(r.tenant, r.snapshot);
      restored++;
    }
    this.#observer.learnedState("restored", restored);
    this.#restored = true;
    if (restored > 0) this.#log.info({ tenants: restored }, "learned state restored");
  }

  /**
   * The store's learned-state records (of the tenants `only` accepts), parsed,
   * each tenant once: the store may hand a record twice (a scan while it is
   * saved). A record this version cannot read is relearned from traffic, not
   * fatal: it is logged, and counted as ignored once the records are read.
   */
  async *#savedSnapshots(
    only?: (tenant: string) => boolean,
  ): AsyncGenerator<{ tenant: string; snapshot: LearningSnapshot; bytes: number }> {
    let ignored = 0;
    const seen = new Set<string>();
    for await (const r of this.#store.learningRecords(only)) {
      if (seen.has(r.tenant)) continue;
      seen.add(r.tenant);
      const parsed = parseLearningSnapshot(r.body);
      if (parsed.ok) yield { tenant: r.tenant, snapshot: parsed.snapshot, bytes: r.body.length };
      else {
        this.#log.warn({ tenant: r.tenant, reason: parsed.reason }, "saved learned state ignored");
        ignored++;
      }
    }
    this.#observer.learnedState("ignored", ignored);
  }

  get currentVersion(): number | undefined {
    return this.#predictor.current?.version;
  }

  /**
   * Validates and records query events; `offset` is the position of the
   * first one in its stream, so rejections name stream positions.
   */
  recordQueries(inputs: readonly QueryEventInput[], result: IngestResult, offset = 0): Promise<void> {
    return this.#ingestion.recordQueries(inputs, result, offset);
  }

  /**
   * A stream of query messages (RecordQueries) with group commit: one store
   * update in flight at a time; the messages that arrive meanwhile are
   * validated at once and gathered into the next update (up to
   * `ingestBatchEvents` events), so Node's work overlaps the store's and a
   * busy stream pays one store round trip per gathered batch, not per message.
   */
  queryStream(result: IngestResult): QueryStream {
    return this.#ingestion.queryStream(result);
  }

  recordActions(inputs: readonly ActionEventInput[], result: IngestResult): Promise<void> {
    return this.#ingestion.recordActions(inputs, result);
  }

  /**
   * Domain events the precomputer was triggered with: they teach which reads
   * follow which event, and relate users to the entities they act on.
   */
  recordEvents(inputs: readonly DomainEventInput[], result: IngestResult): void {
    const accepted = result.accepted;
    const rejected = result.rejected;
    this.#learning.recordEvents(inputs, result, this.#ingestion.limits());
    this.#observer.events("domain_event", "accepted", result.accepted - accepted);
    this.#observer.events("domain_event", "rejected", result.rejected - rejected);
  }

  /** Fan-out rules learned from events and the reads that followed them, of one tenant or all (""). */
  learnedRules(tenant = ""): LearnedRule[] {
    const rules = this.#learning.rules(tenant);
    this.#observer.offered("fan_out", rules.length);
    return rules;
  }

  /**
   * The entities most related to a user or entity, strongest first; with a
   * task type, only those of the kind that type is read for.
   */
  relatedEntities(tenant: string, subject: string, limit: number, taskType?: string): RelatedEntity[] {
    const related = this.#learning.related(tenant, subject, limit, taskType);
    this.#observer.offered("relation", related.length);
    return related;
  }

  /** How many rules learnedRules() would list now, counted without building them (for the metrics). */
  learnedRuleCount(): number {
    return this.#learning.ruleCount();
  }

  /** Users and entities (per tenant) whose relations are held. */
  relationSubjectCount(): number {
    return this.#learning.relations.size;
  }

  /** Entries held by each bounded in-process sketch and map, by a fixed name each (for the metrics). */
  sketchSizes(): Array<[sketch: string, entries: number]> {
    const l = this.#learning;
    return [
      ["sequences", this.#sequences.size],
      ["sequential_streams", this.#streams.size],
      ["read_ahead", this.#readAhead.size],
      ["relation_subjects", l.relations.size],
      ["fan_out_event_types", l.learner.eventTypes],
      ["fan_out_pending_subjects", l.learner.pendingSubjects],
      ["next_read_event_types", l.nextReads.eventTypes],
      ["next_read_pending_subjects", l.nextReads.pendingSubjects],
    ];
  }

  typeSummaries(): Promise<TypeSummary[]> {
    return this.#demand.typeSummaries();
  }

  /** Decayed request rates (per second) of the top entities or tenants. */
  topMembers(
    family: "entities" | "tenants",
    limit: number,
  ): Promise<Array<{ member: string; demand: number }>> {
    return this.#demand.topMembers(family, limit);
  }

  topPatterns(request: { limit: number; taskType?: string; tenant?: string }): Promise<Pattern[]> {
    return this.#demand.topPatterns(request);
  }

  offPeakWindow(request: { durationMinutes: number; timeZone: string }): Promise<OffPeakWindow> {
    return this.#demand.offPeakWindow(request);
  }

  registerLaunch(input: LaunchInput): Promise<LaunchRecord> {
    return this.#launches.registerLaunch(input);
  }

  upcomingLaunches(hoursAhead: number, tenant: string): Promise<LaunchRecord[]> {
    return this.#launches.upcomingLaunches(hoursAhead, tenant);
  }

  demandOf(keys: readonly string[]): Promise<(number | undefined)[]> {
    return this.#demand.demandOf(keys);
  }

  /** Per key, a number that rises with each recorded read and never otherwise (DemandQueries.readMarks). */
  readMarks(keys: readonly string[]): Promise<(number | undefined)[]> {
    return this.#demand.readMarks(keys);
  }

  /**
   * The keys past sequential runs that recorded reads moved forward, and the
   * keys users are learned to read next, once each, most confident first.
   * `minConfidence` is the least the taker plans work for: no key below it
   * is handed out, or queued until a later take names another floor.
   */
  takeReadAhead(limit: number, minConfidence?: number): Array<{ key: string; confidence: number }> {
    const n = limit === 0 ? 1000 : limit;
    if (!Number.isInteger(n) || n < 0 || n > 100_000)
      throw new InvalidArgumentError("limit must be from 0 to 100000; 0 takes 1000");
    if (minConfidence !== undefined && !(minConfidence >= 0 && minConfidence <= 1))
      throw new InvalidArgumentError("min_confidence must be from 0 to 1");
    return this.#readAhead.take(n, this.settings.clock.now(), minConfidence);
  }

  predictNextKeys(key: string, limit: number): Promise<Array<{ key: string; confidence: number }>> {
    return this.#demand.predictNextKeys(key, limit);
  }

  async predictNextActions(request: {
    tenant: string;
    userId: string;
    limit: number;
    at?: number | undefined;
  }): Promise<NextActionPrediction> {
    const p = await this.#predictor.predict(request);
    this.#observer.offered(p.source, p.actions.length);
    return p;
  }

  /**
   * Retrains now; a call while one runs shares its result, and one within
   * `retrainMinIntervalMs` of the last round answers that round's report.
   */
  retrainNextAction(): Promise<RetrainReport> {
    return this.#retrainer.retrain();
  }

  /**
   * Drops action logs and sessions older than `daysToKeep` days, launches
   * that are past, and the saved learned state of tenants not heard from since.
   */
  async cleanup(daysToKeep = 0): Promise<number> {
    const days = daysToKeep === 0 ? this.settings.daysToKeep : daysToKeep;
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      throw new InvalidArgumentError("days_to_keep must be from 1 to 3650; 0 takes the default");
    const now = this.settings.clock.now();
    const cutoff = now - days * 86_400_000;
    const actions = await this.#store.removeActionsBefore(cutoff);
    const launches = await this.#store.removeLaunchesBefore(now);
    const learned = await this.#store.removeLearningBefore(cutoff);
    const sessions = this.#sequences.removeIdle(cutoff) + this.#streams.removeIdle(cutoff);
    return actions + launches + learned + sessions;
  }
}
