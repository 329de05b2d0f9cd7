import {
  InvalidArgumentError,
  isInvalidArgument,
  type KeyParts,
  parseKey,
  validateKey,
  validateTaskTypeName,
  validateTenant,
} from "@prescient/core";
import { LRUCache } from "lru-cache";
import { type AnalyzerObserver, unobserved } from "./analyzer-observer.js";
import { type Pattern, rankPatterns } from "./core/demand-ranking.js";
import {
  type DecayRates,
  decayedValue,
  decayFactor,
  perSecond,
  ratePerSecond,
  warmedShare,
} from "./core/forward-decay.js";
import { findOffPeakWindow, type OffPeakWindow } from "./core/off-peak.js";
import type { SequentialStreams } from "./core/sequential-streams.js";
import { resolveTimeZone } from "./core/time-zone.js";
import { summarizeType, type TypeSummary } from "./core/type-stats.js";
import type { AnalyzerSettings } from "./settings.js";
import type { AnalyzerStore } from "./store/analyzer-store.js";

/** The most keys one ReadMarks asks about: it is a bounded store read. */
export const maxReadMarkKeys = 10_000;

/** The largest TopPatterns limit taken; the answer holds at most the key capacity. */
const maxPatternLimit = 1_000_000;

/**
 * Reads over the demand the query logs built: per-type summaries, the top
 * entities, tenants and patterns, the off-peak window, and next-key
 * prediction from the recorded key sequences. Each validates its request.
 */
export class DemandQueries {
  readonly #settings: AnalyzerSettings;
  readonly #rates: DecayRates;
  readonly #store: AnalyzerStore;
  readonly #streams: SequentialStreams;
  readonly #observer: AnalyzerObserver;
  /** Parsed keys of the sketch: TopPatterns ranks the same keys run after run. */
  readonly #parsed: LRUCache<string, KeyParts>;
  readonly #partsOf = (key: string): KeyParts => {
    let parts = this.#parsed.get(key);
    if (parts === undefined) {
      parts = parseKey(key);
      this.#parsed.set(key, parts);
    }
    return parts;
  };

  constructor(
    settings: AnalyzerSettings,
    rates: DecayRates,
    store: AnalyzerStore,
    streams: SequentialStreams,
    observer: AnalyzerObserver = unobserved,
  ) {
    this.#settings = settings;
    this.#rates = rates;
    this.#store = store;
    this.#streams = streams;
    this.#observer = observer;
    this.#parsed = new LRUCache({ max: Math.max(1, 2 * settings.keyCapacity) });
  }

  /** How long the store has gathered counts, at `now` (its first event's age). */
  async #observedMs(now: number): Promise<number> {
    const { value } = await this.#store.profile();
    return value.firstTime === undefined ? 0 : now - value.firstTime;
  }

  async typeSummaries(): Promise<TypeSummary[]> {
    const now = this.#settings.clock.now();
    return this.#typeSummaries(now, await this.#observedMs(now));
  }

  async #typeSummaries(now: number, observedMs: number): Promise<TypeSummary[]> {
    const { landmark, value } = await this.#store.typeStats();
    return value.map((r) => summarizeType(r, this.#rates.demand, now, landmark, observedMs));
  }

  /** Decayed request rates (per second) of the top entities or tenants. */
  async topMembers(
    family: "entities" | "tenants",
    limit: number,
  ): Promise<Array<{ member: string; demand: number }>> {
    const now = this.#settings.clock.now();
    const [{ landmark, value }, observedMs] = await Promise.all([
      this.#store.topMembers(family, limit),
      this.#observedMs(now),
    ]);
    const rate = this.#rates.demand;
    return value.map((m) => ({
      member: m.member,
      demand: ratePerSecond(decayedValue(m.w, rate, now, landmark), rate, observedMs),
    }));
  }

  async topPatterns(request: { limit: number; taskType?: string; tenant?: string }): Promise<Pattern[]> {
    const settings = this.#settings;
    const asked = request.limit === 0 ? 100 : request.limit;
    if (!Number.isInteger(asked) || asked < 0 || asked > maxPatternLimit)
      throw new InvalidArgumentError(`limit must be from 0 to ${maxPatternLimit}`);
    // Beyond the key capacity there is nothing more to rank: answer all the sketch holds.
    const limit = Math.min(asked, settings.keyCapacity);
    const tenant = request.tenant ? validateTenant(request.tenant) : undefined;
    const taskType = request.taskType ? validateTaskTypeName(request.taskType) : undefined;
    const now = settings.clock.now();
    const observedMs = await this.#observedMs(now);
    const [keys, types] = await Promise.all([
      this.#store.topKeys(settings.keyCapacity),
      this.#typeSummaries(now, observedMs),
    ]);
    return rankPatterns(keys.value, {
      limit,
      tenant,
      taskType,
      rate: this.#rates.keys,
      now,
      landmark: keys.landmark,
      observedMs,
      types: new Map(types.map((t) => [t.type, t])),
      priorEvents: settings.missPriorEvents,
      defaultComputeMs: settings.defaultComputeMs,
      partsOf: this.#partsOf,
    });
  }

  /**
   * The decayed demand (requests/s) of each key, as TopPatterns reports it;
   * undefined for a key the heavy-hitter sketch does not hold (TopPatterns
   * would not list it). For callers that know which keys they ask about.
   */
  async demandOf(keys: readonly string[]): Promise<(number | undefined)[]> {
    const now = this.#settings.clock.now();
    const [{ landmark, value }, observedMs] = await Promise.all([
      this.#store.keyWeights(keys),
      this.#observedMs(now),
    ]);
    const rate = this.#rates.keys;
    // decayedValue and ratePerSecond with their per-call factors worked out once (a refresh-ahead run asks for thousands).
    const decay = decayFactor(rate, now, landmark);
    const warmed = warmedShare(rate, observedMs);
    return value.map((w) => (w === undefined ? undefined : perSecond(w * decay, rate, warmed)));
  }

  /**
   * A read mark per key: a number that grows with every read of the key the
   * analyzer records and never otherwise, undefined for a key the
   * heavy-hitter sketch does not hold. Two marks of a key tell whether it was
   * read between them (refresh-ahead judges its predictions by them). It is
   * the log of the key's forward-decayed weight, moved off the landmark:
   * ln Σ e^{λ·tᵢ}, the same under every landmark.
   */
  async readMarks(keys: readonly string[]): Promise<(number | undefined)[]> {
    if (keys.length > maxReadMarkKeys)
      throw new InvalidArgumentError(
        `asked for ${keys.length} read marks; at most ${maxReadMarkKeys} per call`,
      );
    for (const [i, key] of keys.entries()) {
      try {
        validateKey(key);
      } catch (e) {
        if (isInvalidArgument(e)) throw new InvalidArgumentError(`keys[${i}]: ${e.message}`);
        throw e;
      }
    }
    const { landmark, value } = await this.#store.keyWeights(keys);
    const offset = this.#rates.keys * landmark;
    return value.map((w) => (w === undefined || !(w > 0) ? undefined : Math.log(w) + offset));
  }

  async offPeakWindow(request: { durationMinutes: number; timeZone: string }): Promise<OffPeakWindow> {
    const settings = this.#settings;
    const duration =
      request.durationMinutes === 0 ? settings.defaultOffPeakDurationMinutes : request.durationMinutes;
    if (!Number.isInteger(duration) || duration < 1 || duration > 7 * 1440)
      throw new InvalidArgumentError(
        "duration_minutes must be from 1 to 10080 (a week); 0 takes the default",
      );
    const timeZone = resolveTimeZone(request.timeZone);
    const { value } = await this.#store.profile();
    return findOffPeakWindow(
      value,
      { durationMinutes: duration, timeZone, now: settings.clock.now() },
      {
        defaultStartMinute: settings.defaultOffPeakStartMinute,
        minEvents: settings.offPeakMinEvents,
        minDailyHistoryMs: 86_400_000,
        minWeeklyHistoryMs: 7 * 86_400_000,
      },
    );
  }

  async predictNextKeys(key: string, limit: number): Promise<Array<{ key: string; confidence: number }>> {
    validateKey(key);
    const n = limit === 0 ? 5 : limit;
    if (!Number.isInteger(n) || n < 0 || n > 1000)
      throw new InvalidArgumentError("limit must be from 0 to 1000");
    const { value } = await this.#store.successors(key, Math.min(n, this.#settings.successorsPerKey));
    const learned =
      value.total > 0
        ? value.successors.map((s) => ({ key: s.member, confidence: Math.min(1, s.w / value.total) }))
        : [];
    // Keys past a sequential run: new keys that no successor count can name yet.
    const ahead = this.#streams.predict(key, n, this.#settings.clock.now());
    if (ahead.length === 0) {
      this.#observer.offered("successor", learned.length);
      return learned;
    }
    const best = new Map<string, number>();
    for (const p of [...learned, ...ahead]) best.set(p.key, Math.max(best.get(p.key) ?? 0, p.confidence));
    const keys = [...best]
      .map(([k, confidence]) => ({ key: k, confidence }))
      .sort((a, b) => b.confidence - a.confidence || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, n);
    const fromSuccessors = new Set(learned.map((l) => l.key));
    const successors = keys.filter((k) => fromSuccessors.has(k.key)).length;
    this.#observer.offered("successor", successors);
    this.#observer.offered("sequence", keys.length - successors);
    return keys;
  }
}
