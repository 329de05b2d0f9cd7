import { type Clock, systemClock } from "@prescient/core";
import { type EntityRelationsOptions, entityRelationsDefaults } from "./core/entity-relations.js";
import { type FanOutLearnerOptions, fanOutLearnerDefaults } from "./core/fan-out-learner.js";
import { type DecayRates, rateOfHalfLife } from "./core/forward-decay.js";
import { sequentialStreamsDefaults } from "./core/sequential-streams.js";
import { type SuccessorChainsOptions, successorChainsDefaults } from "./core/successor-chains.js";
import { defaultNextActionSettings, type NextActionSettings } from "./next-action/trainer.js";

/**
 * The analyzer core's policy settings, with every default documented here and
 * applied in `resolveSettings` only. Pure: the trace evaluator builds an
 * Analyzer from these under a virtual clock.
 */
export interface AnalyzerSettings {
  /** Time source: the system clock live, a ManualClock under replay. */
  clock: Clock;
  /** Half-life of entity, tenant and type demand. Default 1 hour. */
  demandHalfLifeMs: number;
  /**
   * Half-life of key demand (DecayRates.keys): what refresh-ahead and top-N
   * rank keys by. Default 1 hour, as the demand half-life. Longer suits
   * results with long TTLs under a budget well above the default: on
   * random-adplatform seeds 1-2, 3 hours bought +0.6 and +1.9 points of hit
   * rate at 4x the default budget for -0.3 and +0.1 at the default; on
   * seeds 4-8, which were not tuned on, +0.4 to +1.5 at 4x, -0.5 to 0 at the
   * default, and 2-4 points more waste. Not the default: the default budget
   * comes first.
   */
  keyHalfLifeMs: number;
  /** Half-life of the hour-of-week traffic profile. Default 14 days. */
  profileHalfLifeMs: number;
  /** Half-life of next-key successor counts. Default 1 day. */
  successorHalfLifeMs: number;
  /** Heavy-hitter capacities: keys tracked (default 10,000), entities (10,000), tenants (1,000), task types (256). */
  keyCapacity: number;
  entityCapacity: number;
  tenantCapacity: number;
  typeCapacity: number;
  /** Keys whose successors are tracked (default 10,000), and successors kept per key (default 8). */
  successorSourceCapacity: number;
  successorsPerKey: number;
  /** Access sequences (tenant × user) whose last key is remembered. Default 100,000. */
  sequenceCapacity: number;
  /** Reads or actions further apart than this belong to different sessions. Default 30 minutes. */
  sessionGapMs: number;
  /**
   * A sequential run not read for this long has ended: a scan that pauses
   * longer is a new one (SequentialStreams' idleMs). Default 1 minute.
   */
  streamIdleMs: number;
  /**
   * Keys predicted past a sequential run each time a read moves it forward
   * (default 4), and readahead keys held until taken (default 10,000).
   */
  readAheadDepth: number;
  readAheadCapacity: number;
  /** Events this far in the future are rejected. Default 5 minutes. */
  maxClockSkewMs: number;
  /** Retention of action logs and sessions, in days; events older are rejected. Default 7. */
  daysToKeep: number;
  /** Actions kept per user (default 1,000) and users kept (default 100,000). */
  maxActionsPerUser: number;
  maxUsers: number;
  /** Events accepted in one request or stream message. Default 10,000. */
  maxEventsPerMessage: number;
  /** Rejections reported back per call (all are counted). Default 100. */
  maxRejectionsReported: number;
  /** Default off-peak window: local start minute of the day (02:00) and duration (4 h). */
  defaultOffPeakStartMinute: number;
  defaultOffPeakDurationMinutes: number;
  /** Events needed before the traffic profile is trusted. Default 1,000. */
  offPeakMinEvents: number;
  /** TopPatterns: prior strength (events) of the type's miss rate, and the cost of a type with no compute times. Defaults 5 and 1 ms. */
  missPriorEvents: number;
  defaultComputeMs: number;
  nextAction: NextActionSettings;
  /**
   * Least time between next-action retraining rounds, from the end of one
   * to the start of the next; 0 leaves retraining unbounded. A retrain asked
   * for sooner (RetrainNextAction, or a retraining period set below this)
   * answers the last round's report, saying so in its explanation, without
   * training: a round reads every user's history and trains a model, tens of
   * milliseconds on a large store, so back-to-back calls must not each cost
   * one. A call while a round runs shares that round. Default 10 s.
   */
  retrainMinIntervalMs: number;
  /** Learned fan-out: window, decay, support and bounds (defaults in fan-out-learner.ts). */
  fanOut: FanOutLearnerOptions;
  /**
   * Next reads: what a user reads within `windowMs` after reading (or doing)
   * something, learned as fan-out rules of the user's own acts. Defaults:
   * the fan-out learner's (a 15-minute window), skipping the first second (an
   * act's own reads). The window makes a target's probability that of a
   * read within it, a bound on the chance that a result computed now is read
   * before it expires: 15 minutes, as the fan-out learner's, and within every
   * shipped TTL. Chosen on random-adplatform seeds 1-2 (against 2 minutes: as
   * many hits or more, no more waste).
   */
  nextReads: FanOutLearnerOptions;
  /**
   * Related entities offered per related-keyed next read: the strongest of
   * the type's kind, each at its share of the target's probability (the
   * precomputer's floors and budget keep the likely ones). Default 3.
   */
  nextReadsRelatedLimit: number;
  /**
   * Relations in one tenant's learned-state snapshot (learning-snapshot.ts),
   * at most: its most recently used subjects, whole, up to this many. It
   * bounds what one save writes and one restart reads (about 60 bytes a
   * relation). Default 200,000.
   */
  learningSnapshotMaxRelations: number;
  /** Entity relations: bounds and decay (defaults in entity-relations.ts). */
  relations: EntityRelationsOptions;
  /**
   * Chains of successors offered as readahead on each read (defaults in
   * successor-chains.ts). Their bounds and decay are the successor counts':
   * `successorSourceCapacity`, `successorsPerKey`, `successorHalfLifeMs`.
   */
  successorChains: SuccessorChainsOptions;
}

export type AnalyzerSettingsInput = Partial<
  Omit<AnalyzerSettings, "fanOut" | "nextReads" | "relations" | "successorChains">
> & {
  fanOut?: Partial<FanOutLearnerOptions>;
  nextReads?: Partial<FanOutLearnerOptions>;
  relations?: Partial<EntityRelationsOptions>;
  successorChains?: Partial<SuccessorChainsOptions>;
};

/** The counters' decay rates under these settings (the analyzer's, and a sharded store's for its reads). */
export const decayRatesOf = (
  s: Pick<
    AnalyzerSettings,
    "demandHalfLifeMs" | "keyHalfLifeMs" | "profileHalfLifeMs" | "successorHalfLifeMs"
  >,
): DecayRates => ({
  demand: rateOfHalfLife(s.demandHalfLifeMs),
  keys: rateOfHalfLife(s.keyHalfLifeMs),
  profile: rateOfHalfLife(s.profileHalfLifeMs),
  successors: rateOfHalfLife(s.successorHalfLifeMs),
});

export function resolveSettings(settings?: AnalyzerSettingsInput): AnalyzerSettings {
  return {
    clock: systemClock,
    demandHalfLifeMs: 3_600_000,
    keyHalfLifeMs: 3_600_000,
    profileHalfLifeMs: 14 * 86_400_000,
    successorHalfLifeMs: 86_400_000,
    keyCapacity: 10_000,
    entityCapacity: 10_000,
    tenantCapacity: 1_000,
    typeCapacity: 256,
    successorSourceCapacity: 10_000,
    successorsPerKey: 8,
    sequenceCapacity: 100_000,
    sessionGapMs: 30 * 60_000,
    streamIdleMs: sequentialStreamsDefaults.idleMs,
    readAheadDepth: 4,
    readAheadCapacity: 10_000,
    maxClockSkewMs: 5 * 60_000,
    daysToKeep: 7,
    maxActionsPerUser: 1_000,
    maxUsers: 100_000,
    maxEventsPerMessage: 10_000,
    maxRejectionsReported: 100,
    defaultOffPeakStartMinute: 120,
    defaultOffPeakDurationMinutes: 240,
    offPeakMinEvents: 1_000,
    missPriorEvents: 5,
    defaultComputeMs: 1,
    retrainMinIntervalMs: 10_000,
    nextReadsRelatedLimit: 3,
    learningSnapshotMaxRelations: 200_000,
    ...settings,
    fanOut: { ...fanOutLearnerDefaults, ...settings?.fanOut },
    nextReads: { ...fanOutLearnerDefaults, minDelayMs: 1000, ...settings?.nextReads },
    relations: { ...entityRelationsDefaults, ...settings?.relations },
    successorChains: { ...successorChainsDefaults, ...settings?.successorChains },
    nextAction: {
      ...defaultNextActionSettings,
      ...settings?.nextAction,
      training: { ...defaultNextActionSettings.training, ...settings?.nextAction?.training },
    },
  };
}
