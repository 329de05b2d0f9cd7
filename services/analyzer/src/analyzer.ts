import {
  errorMessage,
  InvalidArgumentError,
  parseKey,
  validateTaskTypeName,
  validateTenant,
} from "@prescient/core";
import { buildCounterDelta } from "./core/counter-delta.js";
import { type Pattern, rankPatterns } from "./core/demand-ranking.js";
import {
  type ActionEventInput,
  type EventLimits,
  type IngestResult,
  type QueryEvent,
  type QueryEventInput,
  validateActionEvent,
  validateQueryEvent,
} from "./core/events.js";
import { type DecayRates, decayedValue, rateOfHalfLife } from "./core/forward-decay.js";
import { type LaunchInput, validateLaunch } from "./core/launches.js";
import { findOffPeakWindow, type OffPeakWindow } from "./core/off-peak.js";
import { SequenceTracker } from "./core/sequence-tracker.js";
import { resolveTimeZone } from "./core/time-zone.js";
import { summarizeType, type TypeSummary } from "./core/type-stats.js";
import type { ModelPublisher, NextActionScorer } from "./model/ports.js";
import { type Distribution, MarkovBaseline, topActions } from "./next-action/baselines.js";
import { actionPairs } from "./next-action/examples.js";
import { denseRows, encodeFeatures, featureWidth } from "./next-action/features.js";
import type { Metrics } from "./next-action/metrics.js";
import { exportNextActionOnnx, importNextActionOnnx } from "./next-action/onnx-export.js";
import { type NextActionModel, toDistribution } from "./next-action/softmax-regression.js";
import { retrainNextAction } from "./next-action/trainer.js";
import { type AnalyzerSettings, resolveSettings } from "./settings.js";
import type { AnalyzerStore, Capacities, LaunchRecord } from "./store/analyzer-store.js";

/**
 * The analyzer's core: ingestion, demand ranking, off-peak detection,
 * launches, next-action and next-key prediction, retraining and retention,
 * over an injected clock, store, model publisher and scorer. It imports
 * neither gRPC nor Redis; the service is a thin adapter over it, and the
 * trace evaluator runs it as is under a virtual clock.
 */
export interface AnalyzerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface AnalyzerDeps {
  store: AnalyzerStore;
  publisher: ModelPublisher;
  scorer: NextActionScorer;
  log?: AnalyzerLog;
}

export type PredictionSource = "model" | "markov" | "frequency";

export interface NextActionPrediction {
  actions: Array<{ action: string; probability: number }>;
  source: PredictionSource;
  modelVersion: string;
  fallbackReason: string;
}

export interface RetrainReport {
  candidate: Metrics | undefined;
  current: Metrics | undefined;
  markov: Metrics;
  frequency: Metrics;
  promoted: boolean;
  version: string;
  explanation: string;
}

const silent: AnalyzerLog = { info: () => undefined, warn: () => undefined };
/** A user's actions read for features: far more than any feature looks back. */
const historyWindow = 64;
/** How long the Markov fallback is trusted before it is refitted from the logs. */
const fallbackRefitMs = 10 * 60_000;

export class Analyzer {
  readonly settings: AnalyzerSettings;
  readonly rates: DecayRates;
  readonly #store: AnalyzerStore;
  readonly #publisher: ModelPublisher;
  readonly #scorer: NextActionScorer;
  readonly #log: AnalyzerLog;
  readonly #sequences: SequenceTracker;
  readonly #capacities: Capacities;
  #current: { version: number; model: NextActionModel } | undefined;
  #fallback: { markov: MarkovBaseline; fittedAt: number } | undefined;
  #retraining: Promise<RetrainReport> | undefined;
  #fallbackFit: Promise<MarkovBaseline> | undefined;

  constructor(deps: AnalyzerDeps, settings?: Partial<AnalyzerSettings>) {
    this.settings = resolveSettings(settings);
    const s = this.settings;
    this.#store = deps.store;
    this.#publisher = deps.publisher;
    this.#scorer = deps.scorer;
    this.#log = deps.log ?? silent;
    this.rates = {
      demand: rateOfHalfLife(s.demandHalfLifeMs),
      profile: rateOfHalfLife(s.profileHalfLifeMs),
      successors: rateOfHalfLife(s.successorHalfLifeMs),
    };
    this.#sequences = new SequenceTracker(s.sequenceCapacity, s.sessionGapMs);
    this.#capacities = {
      keys: s.keyCapacity,
      entities: s.entityCapacity,
      tenants: s.tenantCapacity,
      types: s.typeCapacity,
      successorSources: s.successorSourceCapacity,
      successorsPerSource: s.successorsPerKey,
    };
  }

  /** Loads the newest published next-action version, if any, so a restart serves it at once. */
  async start(): Promise<void> {
    await this.#store.ready();
    await this.#syncCurrent();
  }

  get currentVersion(): number | undefined {
    return this.#current?.version;
  }

  #limits(): EventLimits {
    return {
      now: this.settings.clock.now(),
      maxClockSkewMs: this.settings.maxClockSkewMs,
      maxAgeMs: this.settings.daysToKeep * 86_400_000,
    };
  }

  /** An oversized message is rejected event by event, so the rest of its stream still counts. */
  #oversized(n: number, result: IngestResult, offset: number): boolean {
    if (n <= this.settings.maxEventsPerMessage) return false;
    const reason = `the message holds ${n} events; the limit is ${this.settings.maxEventsPerMessage}: split it`;
    for (let i = 0; i < n; i++) this.#reject(result, offset + i, reason);
    return true;
  }

  /**
   * Validates and records query events; `offset` is the position of the
   * first one in its stream, so rejections name stream positions.
   */
  async recordQueries(inputs: readonly QueryEventInput[], result: IngestResult, offset = 0): Promise<void> {
    const events: QueryEvent[] = [];
    this.#validateQueries(inputs, result, offset, events);
    if (events.length === 0) return;
    await this.#applyQueries(events);
    result.accepted += events.length;
  }

  /**
   * A stream of query messages (RecordQueries) with group commit: one store
   * update in flight at a time; the messages that arrive meanwhile are
   * validated at once and gathered into the next update (up to
   * `ingestBatchEvents` events), so Node's work overlaps the store's and a
   * busy stream pays one store round trip per gathered batch, not per message.
   */
  queryStream(result: IngestResult): QueryStream {
    return new QueryStream(
      (inputs, offset, into) => this.#validateQueries(inputs, result, offset, into),
      (events) => this.#applyQueries(events),
      result,
    );
  }

  #validateQueries(
    inputs: readonly QueryEventInput[],
    result: IngestResult,
    offset: number,
    into: QueryEvent[],
  ): void {
    if (this.#oversized(inputs.length, result, offset)) return;
    const limits = this.#limits();
    for (let i = 0; i < inputs.length; i++) {
      const v = validateQueryEvent(inputs[i]!, limits);
      if (v.ok) into.push(v.event);
      else this.#reject(result, offset + i, v.reason);
    }
  }

  async #applyQueries(events: QueryEvent[]): Promise<void> {
    // Sequences need time order; a batch is nearly always sorted already.
    for (let i = 1; i < events.length; i++)
      if (events[i]!.time < events[i - 1]!.time) {
        events.sort((a, b) => a.time - b.time);
        break;
      }
    await this.#store.applyCounters(buildCounterDelta(events, this.rates, this.#sequences), this.#capacities);
  }

  async recordActions(inputs: readonly ActionEventInput[], result: IngestResult): Promise<void> {
    if (this.#oversized(inputs.length, result, 0)) return;
    const limits = this.#limits();
    const events = [];
    for (const [i, input] of inputs.entries()) {
      const v = validateActionEvent(input, limits);
      if (v.ok) events.push(v.event);
      else this.#reject(result, i, v.reason);
    }
    await this.#store.appendActions(events, {
      perUser: this.settings.maxActionsPerUser,
      users: this.settings.maxUsers,
    });
    result.accepted += events.length;
    // An empty fallback (cold start) is refitted as soon as there is something to fit.
    if (events.length > 0 && this.#fallback?.markov.trained === false) this.#fallback = undefined;
  }

  #reject(result: IngestResult, index: number, reason: string): void {
    result.rejected++;
    if (result.rejections.length < this.settings.maxRejectionsReported)
      result.rejections.push({ index, reason });
  }

  async typeSummaries(): Promise<TypeSummary[]> {
    const { landmark, value } = await this.#store.typeStats();
    const now = this.settings.clock.now();
    return value.map((r) => summarizeType(r, this.rates.demand, now, landmark));
  }

  /** Decayed request rates (per second) of the top entities or tenants. */
  async topMembers(
    family: "entities" | "tenants",
    limit: number,
  ): Promise<Array<{ member: string; demand: number }>> {
    const { landmark, value } = await this.#store.topMembers(family, limit);
    const now = this.settings.clock.now();
    const rate = this.rates.demand;
    return value.map((m) => ({
      member: m.member,
      demand: decayedValue(m.w, rate, now, landmark) * rate * 1000,
    }));
  }

  async topPatterns(request: { limit: number; taskType?: string; tenant?: string }): Promise<Pattern[]> {
    const limit = request.limit === 0 ? 100 : request.limit;
    if (!Number.isInteger(limit) || limit < 0 || limit > this.settings.keyCapacity)
      throw new InvalidArgumentError(`limit must be from 0 to ${this.settings.keyCapacity}`);
    const tenant = request.tenant ? validateTenant(request.tenant) : undefined;
    const taskType = request.taskType ? validateTaskTypeName(request.taskType) : undefined;
    const [keys, types] = await Promise.all([
      this.#store.topKeys(this.settings.keyCapacity),
      this.typeSummaries(),
    ]);
    return rankPatterns(keys.value, {
      limit,
      tenant,
      taskType,
      rate: this.rates.demand,
      now: this.settings.clock.now(),
      landmark: keys.landmark,
      types: new Map(types.map((t) => [t.type, t])),
      priorEvents: this.settings.missPriorEvents,
      defaultComputeMs: this.settings.defaultComputeMs,
    });
  }

  async offPeakWindow(request: { durationMinutes: number; timeZone: string }): Promise<OffPeakWindow> {
    const duration =
      request.durationMinutes === 0 ? this.settings.defaultOffPeakDurationMinutes : request.durationMinutes;
    if (!Number.isInteger(duration) || duration < 1 || duration > 7 * 1440)
      throw new InvalidArgumentError(
        "duration_minutes must be from 1 to 10080 (a week); 0 takes the default",
      );
    const timeZone = resolveTimeZone(request.timeZone);
    const { value } = await this.#store.profile();
    return findOffPeakWindow(
      value,
      { durationMinutes: duration, timeZone, now: this.settings.clock.now() },
      {
        defaultStartMinute: this.settings.defaultOffPeakStartMinute,
        minEvents: this.settings.offPeakMinEvents,
        minDailyHistoryMs: 86_400_000,
        minWeeklyHistoryMs: 7 * 86_400_000,
      },
    );
  }

  async registerLaunch(input: LaunchInput): Promise<LaunchRecord> {
    const launch = validateLaunch(input, this.settings.clock.now());
    await this.#store.putLaunch(launch);
    return launch;
  }

  async upcomingLaunches(hoursAhead: number, tenant: string): Promise<LaunchRecord[]> {
    const hours = hoursAhead === 0 ? 24 : hoursAhead;
    if (!Number.isFinite(hours) || hours < 0 || hours > 366 * 24)
      throw new InvalidArgumentError("hours_ahead must be from 0 to 8784 (a year); 0 means 24");
    const now = this.settings.clock.now();
    return this.#store.launchesBetween(
      now,
      now + hours * 3_600_000,
      tenant === "" ? undefined : validateTenant(tenant),
    );
  }

  async predictNextKeys(key: string, limit: number): Promise<Array<{ key: string; confidence: number }>> {
    parseKey(key);
    const n = limit === 0 ? 5 : limit;
    if (!Number.isInteger(n) || n < 0 || n > 1000)
      throw new InvalidArgumentError("limit must be from 0 to 1000");
    const { value } = await this.#store.successors(key, Math.min(n, this.settings.successorsPerKey));
    if (!(value.total > 0)) return [];
    return value.successors.map((s) => ({ key: s.member, confidence: Math.min(1, s.w / value.total) }));
  }

  async predictNextActions(request: {
    tenant: string;
    userId: string;
    limit: number;
    at?: number | undefined;
  }): Promise<NextActionPrediction> {
    validateTenant(request.tenant);
    if (request.userId === "") throw new InvalidArgumentError("user_id is empty");
    const limit = request.limit === 0 ? 5 : request.limit;
    if (!Number.isInteger(limit) || limit < 0 || limit > 1000)
      throw new InvalidArgumentError("limit must be from 0 to 1000");
    const at = request.at ?? this.settings.clock.now();
    const history = (await this.#store.userActions(request.tenant, request.userId, historyWindow)).filter(
      (a) => a.time <= at,
    );
    const fallback = await this.#fallbackModel();
    const answer = (
      source: PredictionSource,
      d: Distribution,
      reason: string,
      version = "",
    ): NextActionPrediction => ({
      actions: topActions(d, limit),
      source,
      modelVersion: version,
      fallbackReason: reason,
    });
    if (history.length === 0)
      return answer("frequency", fallback.frequencies, "no actions recorded for this user");
    const markov = (reason: string): NextActionPrediction => {
      const { distribution, backedOff } = fallback.predict(history.at(-1)?.action);
      return backedOff
        ? answer("frequency", distribution, `${reason}; the last action has no recorded successors`)
        : answer("markov", distribution, reason);
    };
    const current = this.#current;
    if (current === undefined) return markov("no next-action model has been trained yet");
    const { model, version } = current;
    const width = featureWidth(model.spec);
    try {
      const probabilities = await this.#scorer.score({
        version,
        features: denseRows([encodeFeatures(history, at, model.spec)], width),
        rows: 1,
        width,
        classes: model.classes,
      });
      return answer("model", toDistribution(model.spec.actions, probabilities), "", String(version));
    } catch (e) {
      return markov(`next-action model unavailable (${this.#scorer.description}): ${errorMessage(e)}`);
    }
  }

  /** Retrains now; a call while one runs shares its result. */
  retrainNextAction(): Promise<RetrainReport> {
    this.#retraining ??= this.#retrain().finally(() => {
      this.#retraining = undefined;
    });
    return this.#retraining;
  }

  async #retrain(): Promise<RetrainReport> {
    await this.#syncCurrent();
    const histories = await this.#store.histories();
    const outcome = retrainNextAction(
      histories,
      this.settings.nextAction,
      this.settings.sessionGapMs,
      this.#current?.model,
    );
    this.#fallback = { markov: outcome.fallback, fittedAt: this.settings.clock.now() };
    let version = this.#current === undefined ? "" : String(this.#current.version);
    let promoted = false;
    let explanation = outcome.explanation;
    if (outcome.promote && outcome.model !== undefined) {
      const bytes = exportNextActionOnnx(outcome.model, outcome.explanation);
      const published = await this.#publisher.publish(bytes);
      this.#current = { version: published, model: outcome.model };
      version = String(published);
      promoted = true;
      await this.#scorer.modelPublished({ version: published, bytes }).catch((e: unknown) => {
        // The predictor's poller will still find it; until then the Markov fallback answers.
        explanation += `; the predictor did not load it yet: ${errorMessage(e)}`;
      });
      this.#log.info({ version: published, candidate: outcome.candidate }, "published next-action model");
    }
    return {
      candidate: outcome.candidate,
      current: outcome.current,
      markov: outcome.markov,
      frequency: outcome.frequency,
      promoted,
      version,
      explanation,
    };
  }

  /** Drops action logs and sessions older than `daysToKeep` days, and launches that are past. */
  async cleanup(daysToKeep = 0): Promise<number> {
    const days = daysToKeep === 0 ? this.settings.daysToKeep : daysToKeep;
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      throw new InvalidArgumentError("days_to_keep must be from 1 to 3650; 0 takes the default");
    const now = this.settings.clock.now();
    const cutoff = now - days * 86_400_000;
    const actions = await this.#store.removeActionsBefore(cutoff);
    const launches = await this.#store.removeLaunchesBefore(now);
    const sessions = this.#sequences.removeIdle(cutoff);
    return actions + launches + sessions;
  }

  /** The Markov fallback, refitted from the logs when no retrain has run for a while (one fit at a time). */
  async #fallbackModel(): Promise<MarkovBaseline> {
    const now = this.settings.clock.now();
    if (this.#fallback !== undefined && now - this.#fallback.fittedAt <= fallbackRefitMs)
      return this.#fallback.markov;
    this.#fallbackFit ??= this.#store
      .histories()
      .then((histories) => {
        const markov = new MarkovBaseline().fit(actionPairs(histories));
        this.#fallback = { markov, fittedAt: now };
        return markov;
      })
      .finally(() => {
        this.#fallbackFit = undefined;
      });
    return this.#fallbackFit;
  }

  /** Adopts a newer version another replica (or an earlier run) published. */
  async #syncCurrent(): Promise<void> {
    const latest = await this.#publisher.latest();
    if (latest === undefined || latest.version === this.#current?.version) return;
    try {
      this.#current = { version: latest.version, model: importNextActionOnnx(latest.bytes) };
      await this.#scorer
        .modelPublished(latest)
        .catch((e: unknown) =>
          this.#log.warn(
            { err: errorMessage(e), version: latest.version },
            "scorer could not load the model",
          ),
        );
    } catch (e) {
      this.#log.warn(
        { err: errorMessage(e), version: latest.version },
        "ignoring an unreadable next-action model",
      );
    }
  }
}

/** Events gathered into one store update by a query stream, at most. */
export const ingestBatchEvents = 8192;

/** See Analyzer.queryStream. `push` each message in order, then `end`; either throws the store's error. */
export class QueryStream {
  readonly #validate: (inputs: readonly QueryEventInput[], offset: number, into: QueryEvent[]) => void;
  readonly #apply: (events: QueryEvent[]) => Promise<void>;
  readonly #result: IngestResult;
  #pending: QueryEvent[] = [];
  #inFlight: Promise<void> | undefined;
  #failed: { error: unknown } | undefined;

  constructor(
    validate: (inputs: readonly QueryEventInput[], offset: number, into: QueryEvent[]) => void,
    apply: (events: QueryEvent[]) => Promise<void>,
    result: IngestResult,
  ) {
    this.#validate = validate;
    this.#apply = apply;
    this.#result = result;
  }

  /** Validates a message now; waits only while a full batch is already waiting for the store. */
  async push(inputs: readonly QueryEventInput[], offset: number): Promise<void> {
    this.#throwIfFailed();
    this.#validate(inputs, offset, this.#pending);
    while (this.#inFlight !== undefined && this.#pending.length >= ingestBatchEvents) await this.#inFlight;
    this.#throwIfFailed();
    if (this.#inFlight === undefined) this.#next();
  }

  /** Waits for every pushed event to be applied. */
  async end(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight;
    this.#throwIfFailed();
  }

  #next(): void {
    if (this.#pending.length === 0 || this.#failed !== undefined) return;
    const batch =
      this.#pending.length <= ingestBatchEvents ? this.#pending : this.#pending.splice(0, ingestBatchEvents);
    if (batch === this.#pending) this.#pending = [];
    this.#inFlight = this.#apply(batch).then(
      () => {
        this.#result.accepted += batch.length;
        this.#inFlight = undefined;
        this.#next();
      },
      (error: unknown) => {
        this.#failed = { error };
        this.#inFlight = undefined;
      },
    );
  }

  #throwIfFailed(): void {
    if (this.#failed !== undefined) throw this.#failed.error;
  }
}
