import type { Features, PlannedTask } from "./types.js";

/**
 * What the precomputer needs from its peers, as plain interfaces. The
 * service adapts them to the executor, cache and analyzer cores in one
 * process or to gRPC clients; the evaluator adapts them to its simulation.
 */

/** The executor's queue. All or nothing: a failure rejects and keeps nothing half-done. */
export interface TaskSink {
  enqueueMany(tasks: readonly PlannedTask[]): Promise<Array<{ taskId: string; deduplicated: boolean }>>;
}

/** The cache, read for freshness without counting as demand where the adapter can. */
export interface FreshnessSource {
  /** expires_at (ms) of each key's stored result, undefined when there is none; in order. */
  expiries(keys: readonly string[]): Promise<(number | undefined)[]>;
  /** Keys whose hits XFetch flagged for early refresh (taken: each is handed out once). */
  takeRefreshDue(limit: number): Promise<string[]>;
  /**
   * Where the cache keeps an expiry index: the stored results now within
   * their type's refresh horizon, and those that expired since the last call
   * (once, with no expiresAt). With it and the analyzer's demandOf, a
   * refresh-ahead run looks at the results near expiry instead of ranking
   * every key the analyzer holds. Undefined: this cache keeps no such index.
   */
  nearExpiry?(
    now: number,
    horizonOf: (taskType: string) => number,
    filter: { taskType?: string | undefined; tenant?: string | undefined },
  ): Promise<NearExpiry[] | undefined>;
}

/** A stored result near its expiry (see FreshnessSource.nearExpiry). */
export interface NearExpiry {
  key: string;
  tenant: string;
  taskType: string;
  entityId: string;
  /** Undefined once expired. */
  expiresAt: number | undefined;
}

/** One key ranked by the analyzer (TopPatterns). */
export interface DemandPattern {
  key: string;
  tenant: string;
  taskType: string;
  /** Raw entity id, or `#<digest>` for an input-addressed key. */
  entityId: string;
  /** Decayed requests per second. */
  demand: number;
  benefit: number;
}

export interface UpcomingLaunch {
  id: string;
  tenant: string;
  campaignId: string;
  launchAt: number;
  entityIds: string[];
  /** Empty: those of the rule for `event`, else the launch warming's defaults. */
  taskTypes: string[];
  /** The event type that announced the launch; "" when none was named. */
  event: string;
}

export interface OffPeak {
  /** The next start of the off-peak window (ms). */
  nextStart: number;
  durationMinutes: number;
}

/** The analyzer: what is in demand, when it is quiet, what comes next. */
export interface DemandSource {
  topPatterns(request: { limit: number; taskType?: string; tenant?: string }): Promise<DemandPattern[]>;
  offPeakWindow(request: { durationMinutes: number; timeZone: string }): Promise<OffPeak>;
  upcomingLaunches(hoursAhead: number): Promise<UpcomingLaunch[]>;
  predictNextActions(request: {
    tenant: string;
    userId: string;
    limit: number;
  }): Promise<Array<{ action: string; probability: number }>>;
  predictNextKeys(key: string, limit: number): Promise<Array<{ key: string; confidence: number }>>;
  /** The decayed demand of each key, undefined where the analyzer holds none; in process only. */
  demandOf?(keys: readonly string[]): Promise<(number | undefined)[]>;
  /**
   * Per key, a number that rises with every read the analyzer records and
   * never otherwise, undefined where it holds none (in process, and over
   * gRPC as ReadMarks). Two marks tell whether the key was read between
   * them: the precomputer learns from them how often its predicted reads
   * happen (ReadCalibration).
   */
  readMarks?(keys: readonly string[]): Promise<(number | undefined)[]>;
  /**
   * Keys past sequential runs that recorded reads moved forward, and keys
   * users are learned to read next, handed out once each; none below
   * `minConfidence`, which the analyzer keeps as its queue's floor.
   */
  takeReadAhead(limit: number, minConfidence: number): Promise<Array<{ key: string; confidence: number }>>;
  /** Retrains the next-action model; answers a one-line summary for the run history. */
  retrainNextAction(): Promise<string>;
  /** Drops old logs; answers how many records went. */
  cleanup(): Promise<number>;
  /** Passes triggered events on, for the analyzer to learn fan-out rules and relations from. */
  recordEvents(events: readonly DomainEventReport[]): Promise<void>;
  /** Fan-out rules the analyzer learned, every tenant's. */
  learnedRules(): Promise<LearnedRuleView[]>;
  /** The entity ids most related to a user (or entity), of the kind `taskType` is read for. */
  relatedEntities(request: {
    tenant: string;
    subject: string;
    limit: number;
    taskType: string;
  }): Promise<string[]>;
}

/** A triggered event, as the analyzer learns from it. */
export interface DomainEventReport {
  time: number;
  tenant: string;
  type: string;
  entityId: string;
  userId: string;
  relatedEntityIds: readonly string[];
}

/** A learned fan-out rule, as the analyzer reports it. */
export interface LearnedRuleView {
  tenant: string;
  event: string;
  support: number;
  targets: Array<{
    taskType: string;
    keyBy: "entity" | "user" | "related";
    probability: number;
    meanDelayMs: number;
  }>;
}

/** Live load, for the budget's back-off. A signal that cannot be read is left out. */
export interface LoadSample {
  /** Cache lookups per second. */
  liveQps?: number;
  /** Tasks waiting in the executor's queue. */
  queueDepth?: number;
  /** Mean time a predictor request waited for its batch, ms. */
  predictorQueueMs?: number;
  /** Cache hit rate over the last interval, 0..1. */
  hitRate?: number;
}

export interface LoadProbe {
  sample(): Promise<LoadSample>;
}

export const noLoad: LoadProbe = { sample: async () => ({}) };

/** The features an event carried, for ports that pass them on. */
export type { Features };

/** Where the core logs; pino fits. */
export interface PrecomputerLog {
  /** Routine events nobody acts on, e.g. a schedule run that found nothing to do. */
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLog: PrecomputerLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
