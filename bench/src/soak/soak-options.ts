/** The soak's knobs, each from an environment variable. */
export interface SoakOptions {
  /** Length of the load phase. SOAK_MINUTES, default 10. */
  minutes: number;
  /** Calls per second the load issues. SOAK_RATE, default 100. */
  rate: number;
  /** Calls in flight past which the load skips a call rather than piling up. SOAK_MAX_IN_FLIGHT, default 64. */
  maxInFlight: number;
  /** Distinct entities per key family in the Zipf mix. SOAK_ENTITIES, default 2000. */
  entities: number;
  /** RSS/CPU reading interval, s. SOAK_SAMPLE_S, default 5. */
  sampleS: number;
  /** Interval between GetTask sweeps of the acknowledged tasks, s. SOAK_SWEEP_S, default 30. */
  sweepS: number;
  /**
   * Longest wait for the queue to drain after the load, s. SOAK_DRAIN_S,
   * default 180: a task claimed by a killed executor waits out its 30 s lease,
   * and a failed one its retry backoff.
   */
  drainS: number;
  /** Least time watched with no load, s, so "RSS after load" is read after the services settle. SOAK_IDLE_S, default 30. */
  idleS: number;
  /** How long Redis stays down in a restart fault, ms. SOAK_REDIS_DOWN_MS, default 2000. */
  redisDownMs: number;
  /** How long ctr_prediction stays unloaded, ms. SOAK_UNLOAD_MS, default 5000. */
  unloadMs: number;
}

function num(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!(Number.isFinite(v) && v >= min))
    throw new Error(`${name} must be a number >= ${min}, not ${JSON.stringify(raw)}`);
  return v;
}

export function soakOptionsFromEnv(): SoakOptions {
  return {
    minutes: num("SOAK_MINUTES", 10, 0.1),
    rate: num("SOAK_RATE", 100, 1),
    maxInFlight: num("SOAK_MAX_IN_FLIGHT", 64, 1),
    entities: num("SOAK_ENTITIES", 2000, 10),
    sampleS: num("SOAK_SAMPLE_S", 5, 0.5),
    sweepS: num("SOAK_SWEEP_S", 30, 1),
    drainS: num("SOAK_DRAIN_S", 180, 0),
    idleS: num("SOAK_IDLE_S", 30, 0),
    redisDownMs: num("SOAK_REDIS_DOWN_MS", 2000, 0),
    unloadMs: num("SOAK_UNLOAD_MS", 5000, 0),
  };
}
