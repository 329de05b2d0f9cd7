import {
  type AnalyzerOptions,
  type QueryReporterOptions,
  queryReporterDefaults,
  resolveOptions,
} from "@prescient/analyzer";
import { TaskTypeRegistry } from "@prescient/core";
import {
  type PrecomputerOptions as PrecomputerCoreOptions,
  parseDuration,
  parsePrecomputerConfig,
  precomputerDefaults,
  readCalibrationDefaults,
} from "@prescient/precomputer";
import { z } from "zod";

/**
 * A time-scaled mesh: `prescient up --time-scale S` (or PRESCIENT_TIME_SCALE)
 * makes the mesh live S times faster, so that `prescient replay --live
 * --speed S`, which plays a trace S times faster than it was recorded, meets
 * a mesh that behaves in wall time as the simulation's runs in trace time.
 *
 * The mesh's clock stays the wall clock; what changes is its policy's sense
 * of time. Every duration of policy is divided by S and every rate of policy
 * multiplied by S:
 * - task types: TTL and stale grace (the cache's expiry, XFetch, refresh-ahead);
 * - precomputer: the periods of interval schedules (`every`: refresh-ahead,
 *   readahead, launch warming), off-peak checks (`check_every`), launch
 *   warming's `lead` and `hours_ahead`, refresh-ahead's `horizon`, the
 *   budget's `burst_minutes`, how often learned rules are fetched and the
 *   half-life of the read calibration's evidence; its
 *   `min_demand` (decayed reads per second) and the budget's `per_minute`
 *   and `max_live_qps` are rates, so they are multiplied;
 * - analyzer: the half-lives of demand (per key too), successors, learned
 *   fan-out, next reads and entity relations, the fan-out and next-read
 *   windows and least delays, the session gap, how long a sequential run
 *   may pause, the next-action retraining period and the least time
 *   between retraining rounds (scaled with the period, so that a period
 *   above it stays above it);
 * - the cache's query reporter: its flush interval.
 *
 * Left in wall time: what is operational rather than policy (task leases,
 * retries and their backoff, deadlines, batching delays, run leases and
 * retries, drain, metrics and alert intervals, retention, saves of learned
 * state), and what the calendar anchors (cron schedules, the off-peak window
 * and the hour-of-week traffic profile behind it), which no compression of
 * durations can move.
 * Durations are rounded to whole milliseconds, at least 1: at S = 600 the
 * reporter's 250 ms is 1 ms, not 0.42.
 */
export const timeScaleEnvShape = {
  /** How many times faster than the wall clock the mesh's policy lives. Default 1. */
  PRESCIENT_TIME_SCALE: z.coerce.number().positive().max(1_000_000).default(1),
};

/** A duration of policy, compressed: whole milliseconds, at least 1 (0 stays 0: off). */
export function scaledMs(ms: number, scale: number): number {
  return ms === 0 ? 0 : Math.max(1, Math.round(ms / scale));
}

const asDuration = (ms: number): string => `${ms}ms`;

type Raw = Record<string, unknown>;
const section = (raw: Raw, name: string): Raw => {
  const v = raw[name];
  return typeof v === "object" && v !== null ? { ...(v as Raw) } : {};
};

/** The task-type configuration with its TTLs, stale graces and the precomputer's periods and rates scaled. */
export function scaleTaskTypeConfig(registry: TaskTypeRegistry, scale: number): TaskTypeRegistry {
  if (scale === 1) return registry;
  // Resolved first, so that defaults (check_every, lead, horizon, budget) are scaled too.
  const config = parsePrecomputerConfig(registry.raw, registry);
  const raw: Raw = { ...registry.raw };
  const schedules = section(raw, "schedules");
  for (const [name, spec] of config.schedules) {
    const r = section(schedules, name);
    if (spec.timing.kind === "every" && r.every !== undefined)
      r.every = asDuration(scaledMs(parseDuration(r.every as string | number), scale));
    if (spec.timing.kind === "off_peak")
      r.check_every = asDuration(scaledMs(spec.timing.checkEveryMs, scale));
    // Only launch warming reads them, but every schedule has them: all are compressed alike.
    r.lead = asDuration(scaledMs(spec.leadMs, scale));
    r.hours_ahead = spec.hoursAhead / scale;
    schedules[name] = r;
  }
  if (raw.schedules !== undefined) raw.schedules = schedules;
  const precomputer = section(raw, "precomputer");
  precomputer.refresh_ahead = {
    ...section(precomputer, "refresh_ahead"),
    horizon: asDuration(scaledMs(config.refreshAhead.horizonMs, scale)),
    min_demand: config.refreshAhead.minDemand * scale,
  };
  precomputer.budget = {
    ...section(precomputer, "budget"),
    per_minute: Math.round(config.budget.perMinute * scale),
    burst_minutes: config.budget.burstMinutes / scale,
    max_live_qps: config.budget.maxLiveQps * scale,
  };
  raw.precomputer = precomputer;
  return new TaskTypeRegistry(
    registry.list().map((t) => ({
      ...t,
      ttlMs: scaledMs(t.ttlMs, scale),
      staleGraceMs: scaledMs(t.staleGraceMs, scale),
    })),
    raw,
  );
}

/** The analyzer's options with its half-lives, windows, session gap, run pause, retraining period and minimum interval scaled. */
export function scaleAnalyzerOptions(
  options: Partial<AnalyzerOptions>,
  scale: number,
): Partial<AnalyzerOptions> {
  if (scale === 1) return options;
  const r = resolveOptions(options);
  return {
    ...options,
    demandHalfLifeMs: scaledMs(r.demandHalfLifeMs, scale),
    keyHalfLifeMs: scaledMs(r.keyHalfLifeMs, scale),
    successorHalfLifeMs: scaledMs(r.successorHalfLifeMs, scale),
    sessionGapMs: scaledMs(r.sessionGapMs, scale),
    streamIdleMs: scaledMs(r.streamIdleMs, scale),
    retrainIntervalMs: scaledMs(r.retrainIntervalMs, scale),
    retrainMinIntervalMs: scaledMs(r.retrainMinIntervalMs, scale),
    fanOut: {
      ...r.fanOut,
      windowMs: scaledMs(r.fanOut.windowMs, scale),
      minDelayMs: scaledMs(r.fanOut.minDelayMs, scale),
      halfLifeMs: scaledMs(r.fanOut.halfLifeMs, scale),
    },
    nextReads: {
      ...r.nextReads,
      windowMs: scaledMs(r.nextReads.windowMs, scale),
      minDelayMs: scaledMs(r.nextReads.minDelayMs, scale),
      halfLifeMs: scaledMs(r.nextReads.halfLifeMs, scale),
    },
    relations: { ...r.relations, halfLifeMs: scaledMs(r.relations.halfLifeMs, scale) },
  };
}

/**
 * The precomputer core's durations of policy: how often it fetches the
 * learned rules, and how long the read calibration's evidence lasts.
 */
export function scalePrecomputerCoreOptions(scale: number): Partial<PrecomputerCoreOptions> {
  return scale === 1
    ? {}
    : {
        learnedRulesRefreshMs: scaledMs(precomputerDefaults.learnedRulesRefreshMs, scale),
        readCalibration: { halfLifeMs: scaledMs(readCalibrationDefaults.halfLifeMs, scale) },
      };
}

/** The cache's query reporter, flushing S times sooner. */
export function scaleReporterOptions(scale: number): Partial<QueryReporterOptions> {
  return scale === 1 ? {} : { flushIntervalMs: scaledMs(queryReporterDefaults.flushIntervalMs, scale) };
}
