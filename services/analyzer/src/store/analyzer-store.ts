import type { ActionEvent } from "../core/events.js";
import type { DecayRates } from "../core/forward-decay.js";

/**
 * The analyzer's persistent state behind one interface, with a memory and a
 * Redis implementation that pass one conformance suite.
 *
 * Counters are forward-decayed (see core/forward-decay.ts): a delta carries
 * weights already scaled to its landmark, and a store only adds. When a
 * delta's landmark is newer than the stored one, the store first rescales
 * what it holds (atomically); when older, it scales the delta down. Reads
 * return the stored landmark so the caller can turn values into decayed ones.
 *
 * Heavy-hitter families (keys, entities, tenants, task types, successor
 * sources and each source's successors) are bounded by Space-Saving, so
 * memory stays bounded however many distinct keys arrive.
 */

export interface TypeDelta {
  /** Lookups (scaled weight), and those by outcome. */
  w: number;
  hit: number;
  stale: number;
  miss: number;
  /** Weight of events that carried a compute time, and Σ weight × compute ms. */
  computeW: number;
  computeSum: number;
  /** Compute-time histogram bucket → weight. */
  buckets: Map<number, number>;
}

/** One ingest batch's increments, aggregated per member. */
export interface CounterDelta {
  landmark: number;
  rates: DecayRates;
  /** Key → demand weight (under the keys rate) and the part of it that missed (or was stale). */
  keys: Map<string, { w: number; miss: number }>;
  entities: Map<string, number>;
  tenants: Map<string, number>;
  types: Map<string, TypeDelta>;
  /** UTC hour of week (0 = Monday 00:00) → weight under the profile rate. */
  hours: Map<number, number>;
  /** Source key → successor key → weight under the successor rate. */
  successors: Map<string, Map<string, number>>;
  /** Events in the batch, and the earliest event time (for the history check). */
  events: number;
  firstTime: number;
}

export interface Capacities {
  keys: number;
  entities: number;
  tenants: number;
  types: number;
  successorSources: number;
  successorsPerSource: number;
}

export interface KeyCount {
  key: string;
  /** Scaled weight (over-estimate), its Space-Saving error, and the scaled miss weight. */
  w: number;
  error: number;
  miss: number;
}

export interface MemberCount {
  member: string;
  w: number;
}

export interface TypeStatsRecord extends Omit<TypeDelta, "buckets"> {
  type: string;
  buckets: Map<number, number>;
}

export interface ProfileRecord {
  /** 168 scaled weights, UTC hour of week. */
  hours: number[];
  events: number;
  /** Earliest event time seen; undefined before any. */
  firstTime: number | undefined;
}

/** A read of decayed state, with the landmark its values are scaled to. */
export interface Scaled<T> {
  landmark: number;
  value: T;
}

export interface SuccessorsRecord {
  /** Scaled weight of all transitions out of the source. */
  total: number;
  successors: MemberCount[];
}

export interface ActionRecord {
  time: number;
  action: string;
}

export interface UserHistory {
  tenant: string;
  userId: string;
  actions: ActionRecord[];
}

export interface ActionLimits {
  /** Newest actions kept per user. */
  perUser: number;
  /** Users kept; the least recently active are dropped beyond it. */
  users: number;
}

export interface LaunchRecord {
  id: string;
  tenant: string;
  campaignId: string;
  launchAt: number;
  entityIds: string[];
  taskTypes: string[];
  /** The event type that announced it ("" when none was named). */
  event: string;
}

/** A tenant's learned state (core/learning-snapshot.ts), as saved. */
export interface LearningRecord {
  tenant: string;
  /** ms since the epoch. */
  savedAt: number;
  /** The snapshot, serialized; the store keeps it as it is given. */
  body: string;
}

export interface AnalyzerStore {
  /** Resolves when the store can serve (connected, scripts loaded). */
  ready(): Promise<void>;
  applyCounters(delta: CounterDelta, capacities: Capacities): Promise<void>;
  topKeys(limit: number): Promise<Scaled<KeyCount[]>>;
  /** The counts of these keys, in order; undefined for a key the sketch does not hold. */
  keyCounts(keys: readonly string[]): Promise<Scaled<(KeyCount | undefined)[]>>;
  /** keyCounts' weights alone (`w`), for callers that need nothing else: one lookup per key. */
  keyWeights(keys: readonly string[]): Promise<Scaled<(number | undefined)[]>>;
  topMembers(family: "entities" | "tenants", limit: number): Promise<Scaled<MemberCount[]>>;
  typeStats(): Promise<Scaled<TypeStatsRecord[]>>;
  profile(): Promise<Scaled<ProfileRecord>>;
  successors(source: string, limit: number): Promise<Scaled<SuccessorsRecord>>;

  appendActions(events: readonly ActionEvent[], limits: ActionLimits): Promise<void>;
  /** One user's newest `limit` actions, oldest first. */
  userActions(tenant: string, userId: string, limit: number): Promise<ActionRecord[]>;
  /** Every kept user's actions, oldest first (bounded by ActionLimits). */
  histories(): Promise<UserHistory[]>;
  /** Drops actions older than cutoff (and users left with none); returns how many actions went. */
  removeActionsBefore(cutoff: number): Promise<number>;

  putLaunch(launch: LaunchRecord): Promise<void>;
  /** Launches with from <= launchAt <= to, of one tenant when given, by launch time. */
  launchesBetween(from: number, to: number, tenant?: string): Promise<LaunchRecord[]>;
  removeLaunchesBefore(cutoff: number): Promise<number>;

  /** Saves a tenant's learned state, replacing the one saved before. */
  putLearning(record: LearningRecord): Promise<void>;
  /**
   * Every tenant's saved learned state, a few records at a time: a record
   * may be megabytes, and a restart must not hold every tenant's at once.
   * A record saved while this runs may come twice, or be left out. With
   * `only`, just the tenants it accepts are read (a ring replica taking
   * over some tenants): their records, not every tenant's.
   */
  learningRecords(only?: (tenant: string) => boolean): AsyncIterable<LearningRecord>;
  /** Drops the learned state of tenants last saved before cutoff; returns how many went. */
  removeLearningBefore(cutoff: number): Promise<number>;

  close(): Promise<void>;
}
