import { setTimeout as sleepFor } from "node:timers/promises";

/**
 * The time-compression scheduler of live mode: it starts each trace record
 * at `(record time - first record time) / speed` of wall time after the
 * first, with at most `concurrency` dispatches in flight. When the mesh
 * cannot keep up (every slot busy), a record starts late, and how late is
 * measured: a run whose records start late does not drive the trace's rate.
 * The clock is injected, so the schedule is tested on virtual time.
 */
export interface PacerClock {
  /** Monotonic ms. */
  now(): number;
  /** Resolves after `ms` (at once when aborted). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const wallClock: PacerClock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    try {
      await sleepFor(ms, undefined, signal !== undefined ? { signal } : {});
    } catch (e) {
      if (!signal?.aborted) throw e;
    }
  },
};

export interface PaceOptions {
  /** Time compression: trace ms per wall ms. */
  speed: number;
  /** Dispatches in flight at most. */
  concurrency: number;
  clock?: PacerClock;
  /** Stops dispatching; what is in flight still completes. */
  signal?: AbortSignal;
}

export interface Dispatch {
  /** Wall ms after the first record at which the record was due. */
  dueMs: number;
  /** How long after it was due it started (0 when on time). */
  lateMs: number;
}

export interface PaceStats {
  dispatched: number;
  aborted: boolean;
  /** Wall ms from the first dispatch to the last completion. */
  wallMs: number;
  /** Trace ms from the first record to the last dispatched one. */
  traceMs: number;
  /** Starts later than `lateThresholdMs`, and the worst. */
  late: number;
  maxLateMs: number;
}

/** A start later than this (wall ms) counts as late. */
export const lateThresholdMs = 10;

export async function pace<T>(
  items: AsyncIterable<T> | Iterable<T>,
  timeOf: (item: T) => number,
  dispatch: (item: T, at: Dispatch) => Promise<void>,
  options: PaceOptions,
): Promise<PaceStats> {
  if (!(options.speed > 0) || !Number.isFinite(options.speed))
    throw new RangeError(`speed must be a positive number, got ${options.speed}`);
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
  const clock = options.clock ?? wallClock;
  const signal = options.signal;
  const inFlight = new Set<Promise<void>>();
  let origin: { trace: number; wall: number } | undefined;
  let lastTrace = 0;
  const stats: PaceStats = { dispatched: 0, aborted: false, wallMs: 0, traceMs: 0, late: 0, maxLateMs: 0 };
  let stopped = false;
  for await (const item of items) {
    if (signal?.aborted) {
      stopped = true;
      break;
    }
    const t = timeOf(item);
    if (origin === undefined) origin = { trace: t, wall: clock.now() };
    // A record out of order is due at once, not before the trace began.
    const due = origin.wall + Math.max(0, t - origin.trace) / options.speed;
    const wait = due - clock.now();
    if (wait > 0) await clock.sleep(wait, signal);
    while (inFlight.size >= options.concurrency && !signal?.aborted) await Promise.race(inFlight);
    if (signal?.aborted) {
      stopped = true;
      break;
    }
    const lateMs = Math.max(0, clock.now() - due);
    if (lateMs > lateThresholdMs) stats.late++;
    if (lateMs > stats.maxLateMs) stats.maxLateMs = lateMs;
    lastTrace = Math.max(lastTrace, t);
    stats.dispatched++;
    const p: Promise<void> = dispatch(item, { dueMs: due - origin.wall, lateMs })
      .catch(() => undefined)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  stats.aborted = stopped;
  if (origin !== undefined) {
    stats.wallMs = clock.now() - origin.wall;
    stats.traceMs = lastTrace - origin.trace;
  }
  return stats;
}
