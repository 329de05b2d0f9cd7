import * as hdr from "hdr-histogram-js";

export interface LoadOptions {
  /** Calls kept in flight at once. */
  concurrency: number;
  /** Measured time, after the warm-up. */
  durationMs: number;
  warmupMs: number;
}

export interface LoadResult {
  calls: number;
  errors: number;
  /** The first failed call's message, so that a report of failures says what they were. */
  firstError?: string | undefined;
  seconds: number;
  /** Calls per second. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * A closed loop: `concurrency` workers each await one call after another.
 * Latencies go into an HDR histogram (microsecond resolution), recorded only
 * after the warm-up.
 */
export async function closedLoop(call: () => Promise<unknown>, options: LoadOptions): Promise<LoadResult> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const start = performance.now();
  const warmEnd = start + options.warmupMs;
  const end = warmEnd + options.durationMs;
  let calls = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      let failed = false;
      try {
        await call();
      } catch (e) {
        failed = true;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
      const t1 = performance.now();
      if (t0 >= warmEnd && t1 <= end) {
        calls++;
        if (failed) errors++;
        histogram.recordValue(Math.max(1, Math.round((t1 - t0) * 1000)));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = options.durationMs / 1000;
  const out = {
    calls,
    errors,
    firstError,
    seconds,
    throughput: calls / seconds,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
  };
  histogram.destroy();
  return out;
}

/** Durations from env, so a quick smoke run (BENCH_SECONDS=1) is possible. */
export function loadOptions(concurrency: number): LoadOptions {
  const seconds = Number(process.env.BENCH_SECONDS ?? "5");
  return { concurrency, durationMs: seconds * 1000, warmupMs: Math.min(1000, seconds * 300) };
}
