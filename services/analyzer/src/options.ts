import { addressSchema, createLogger, intFromEnv, type Logger, redisUrlSchema } from "@prescient/kit";
import { z } from "zod";
import { type AnalyzerSettings, resolveSettings } from "./settings.js";

/**
 * Options of the analyzer service: the core's policy settings (settings.ts)
 * plus the shell's wiring. Defaults are documented here and applied in
 * `resolveOptions` only.
 */
export interface AnalyzerOptions extends AnalyzerSettings {
  /** Where counters, action logs and launches live. Default "memory". */
  store: "memory" | { redisUrl: string; keyPrefix?: string };
  /**
   * Shards of a Redis store, from 1 to 256 (store/sharded-store.ts): each has
   * its own hash tag, so on a Redis Cluster the analyzer spreads over the
   * masters; a multiple of the masters spreads evenly (3 shards on 3 masters
   * put a third on each; 4 put two shards on one of them). Every shard holds
   * the full heavy-hitter capacities, so S shards hold up to S times as many
   * members, and a top-n read asks each shard for n. 1 keeps today's single
   * `{analyzer}` tag and key layout. Another count is another key layout,
   * named by the count: the analyzer starts empty there (counters refill
   * within a few half-lives; action logs and launches are not carried over),
   * and the old keys stay until deleted. Ignored by the memory store.
   * Default 1.
   */
  storeShards: number;
  logger: Logger;
  /** The predictor serving the next-action model (host:port); undefined scores in process. */
  predictorAddress: string | undefined;
  /** Deadline of a ModelInfer call. Default 250 ms. */
  predictorTimeoutMs: number;
  /** The predictor's model repository; published versions go there. Default: a private temp directory. */
  modelRepositoryPath: string | undefined;
  /** Model name in the repository. Default "next_action". */
  modelName: string;
  /** Scheduled retraining period; 0 turns it off. Default 6 hours. */
  retrainIntervalMs: number;
  /** Scheduled clean-up period; 0 turns it off. Default 1 day. */
  cleanupIntervalMs: number;
  /**
   * With a Redis store, how often the learned state (fan-out rules, next
   * reads, relations, successor chains) of tenants that changed is saved to
   * it, so that a restarted replica, or the one a tenant moves to, starts
   * from it; it is saved at shutdown too. 0 saves only at shutdown. Default
   * 1 minute.
   */
  learningSaveIntervalMs: number;
  /**
   * Query counters are pre-aggregated in process for up to this long before
   * the store (store/aggregating-store.ts), from 1 to 1000 ms; 0 writes each
   * ingest batch at once, as before. Default 1000 ms.
   */
  ingestFlushIntervalMs: number;
  /** Distinct members (keys, entities, successor pairs...) held before an early flush. Default 200,000. */
  ingestMaxEntries: number;
  /** Estimated bytes held before an early flush. Default 64 MiB. */
  ingestMaxBytes: number;
  /**
   * This replica's address as the other analyzer replicas reach it
   * (host:port; in Kubernetes, the pod IP). With a Redis store, replicas that
   * set it meet in Redis and share the tenants (ring/tenant-ring.ts): each
   * tenant's events and learned state live on one replica, whichever replica
   * a caller reaches, so several replicas answer as one would. Default
   * undefined: this replica answers from what it is sent, as a single one.
   */
  advertiseAddress: string | undefined;
  /** How often a ring member renews itself and re-reads the others (ring-membership.ts). Default 1000 ms. */
  ringHeartbeatMs: number;
  /** A ring member that has not renewed for this long is dropped and its tenants move. Default 5000 ms. */
  ringTtlMs: number;
  /** Deadline of a call forwarded to another replica; past it, the part is handled here. Default 5000 ms. */
  forwardTimeoutMs: number;
  /**
   * Under TLS, the name the other replicas' certificates carry (the
   * Service's, "analyzer", in deploy/): they are called at their advertised
   * pod IPs, which those certificates do not name. Default undefined: the
   * advertised host is checked.
   */
  ringTlsName: string | undefined;
}

export const maxStoreShards = 256;

/** The longest retrainMinIntervalMs: a day, the same as PRESCIENT_ANALYZER_RETRAIN_MIN_INTERVAL_MS's. */
export const maxRetrainMinIntervalMs = 86_400_000;

export function resolveOptions(options?: Partial<AnalyzerOptions>): AnalyzerOptions {
  const shards = options?.storeShards ?? 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > maxStoreShards)
    throw new RangeError(`storeShards must be an integer from 1 to ${maxStoreShards}, not ${shards}`);
  if (options?.advertiseAddress !== undefined && (options.store ?? "memory") === "memory")
    throw new RangeError("advertiseAddress needs a Redis store: analyzer replicas meet in Redis");
  const minInterval = options?.retrainMinIntervalMs;
  if (
    minInterval !== undefined &&
    !(Number.isInteger(minInterval) && minInterval >= 0 && minInterval <= maxRetrainMinIntervalMs)
  )
    throw new RangeError(
      `retrainMinIntervalMs must be an integer from 0 to ${maxRetrainMinIntervalMs}, not ${minInterval}`,
    );
  return {
    store: "memory",
    storeShards: 1,
    logger: createLogger("analyzer"),
    predictorAddress: undefined,
    predictorTimeoutMs: 250,
    modelRepositoryPath: undefined,
    modelName: "next_action",
    retrainIntervalMs: 6 * 3_600_000,
    cleanupIntervalMs: 86_400_000,
    learningSaveIntervalMs: 60_000,
    ingestFlushIntervalMs: 1000,
    ingestMaxEntries: 200_000,
    ingestMaxBytes: 64 * 1024 * 1024,
    advertiseAddress: undefined,
    ringHeartbeatMs: 1000,
    ringTtlMs: 5000,
    forwardTimeoutMs: 5000,
    ringTlsName: undefined,
    ...options,
    ...resolveSettings(options),
  };
}
/** The analyzer's environment variables (beyond the common ones), for `prescient serve analyzer`. */
/** The longest half-life a counter may be given, in seconds (a year). */
export const maxHalfLifeS = 365 * 86_400;

export const analyzerEnvShape = {
  /** The predictor that serves the next-action model; unset scores in process. */
  PRESCIENT_PREDICTOR_ADDR: addressSchema.optional(),
  /** The predictor's model repository, where new next-action versions are written. */
  PRESCIENT_MODEL_REPOSITORY: z.string().min(1).optional(),
  /** Half-life of entity, tenant and task-type demand counters, seconds. */
  PRESCIENT_ANALYZER_HALF_LIFE_S: intFromEnv(1, maxHalfLifeS).default(3_600),
  /** Half-life of per-key demand counters, seconds (AnalyzerSettings.keyHalfLifeMs). */
  PRESCIENT_ANALYZER_KEY_HALF_LIFE_S: intFromEnv(1, maxHalfLifeS).default(3_600),
  /** Retention of action logs and sessions, days. */
  PRESCIENT_ANALYZER_DAYS_TO_KEEP: intFromEnv(1, 365).default(7),
  /** Scheduled retraining period, seconds; 0 turns it off. */
  PRESCIENT_ANALYZER_RETRAIN_INTERVAL_S: intFromEnv(0, 30 * 86_400).default(6 * 3_600),
  /** Least time between retraining rounds, ms (0: unbounded); unset takes the option's default (10 s). */
  PRESCIENT_ANALYZER_RETRAIN_MIN_INTERVAL_MS: intFromEnv(0, maxRetrainMinIntervalMs).optional(),
  /** How often learned state is saved to a Redis store, seconds; 0: only at shutdown. Unset takes 60. */
  PRESCIENT_ANALYZER_LEARNING_SAVE_S: intFromEnv(0, 86_400).optional(),
  /** Heavy-hitter capacity for keys. */
  PRESCIENT_ANALYZER_KEY_CAPACITY: intFromEnv(10, 10_000_000).default(10_000),
  /** Pre-aggregation of query counters before the store, ms (0 turns it off); unset takes the option's default. */
  PRESCIENT_ANALYZER_INGEST_FLUSH_MS: intFromEnv(0, 1000).optional(),
  /** Distinct members pre-aggregated before an early flush; unset takes the option's default. */
  PRESCIENT_ANALYZER_INGEST_MAX_ENTRIES: intFromEnv(1, 100_000_000).optional(),
  /** Shards of the Redis store (options.ts, storeShards); unset takes the option's default, 1. */
  PRESCIENT_ANALYZER_SHARDS: intFromEnv(1, maxStoreShards).optional(),
  /**
   * This replica's host:port as the other analyzer replicas reach it (the pod
   * IP in Kubernetes); set on every replica to share tenants among them.
   * Needs REDIS_URL.
   */
  PRESCIENT_ANALYZER_ADVERTISE_ADDR: addressSchema.optional(),
  /** Under TLS, the name other replicas' certificates carry, checked instead of their advertised host. */
  PRESCIENT_ANALYZER_RING_TLS_NAME: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,253}$/, "a DNS name")
    .optional(),
  REDIS_URL: redisUrlSchema.optional(),
};

export type AnalyzerEnv = z.infer<z.ZodObject<typeof analyzerEnvShape>>;

/** Options from validated env. */
export function analyzerOptionsFromEnv(env: AnalyzerEnv): Partial<AnalyzerOptions> {
  if (env.PRESCIENT_ANALYZER_ADVERTISE_ADDR !== undefined && env.REDIS_URL === undefined)
    throw new Error("PRESCIENT_ANALYZER_ADVERTISE_ADDR needs REDIS_URL: analyzer replicas meet in Redis");
  return {
    store: env.REDIS_URL === undefined ? "memory" : { redisUrl: env.REDIS_URL },
    predictorAddress: env.PRESCIENT_PREDICTOR_ADDR,
    modelRepositoryPath: env.PRESCIENT_MODEL_REPOSITORY,
    demandHalfLifeMs: env.PRESCIENT_ANALYZER_HALF_LIFE_S * 1000,
    keyHalfLifeMs: env.PRESCIENT_ANALYZER_KEY_HALF_LIFE_S * 1000,
    daysToKeep: env.PRESCIENT_ANALYZER_DAYS_TO_KEEP,
    retrainIntervalMs: env.PRESCIENT_ANALYZER_RETRAIN_INTERVAL_S * 1000,
    keyCapacity: env.PRESCIENT_ANALYZER_KEY_CAPACITY,
    // Only when set: an undefined here would override the default in resolveOptions.
    ...(env.PRESCIENT_ANALYZER_INGEST_FLUSH_MS === undefined
      ? {}
      : { ingestFlushIntervalMs: env.PRESCIENT_ANALYZER_INGEST_FLUSH_MS }),
    ...(env.PRESCIENT_ANALYZER_SHARDS === undefined ? {} : { storeShards: env.PRESCIENT_ANALYZER_SHARDS }),
    ...(env.PRESCIENT_ANALYZER_RETRAIN_MIN_INTERVAL_MS === undefined
      ? {}
      : { retrainMinIntervalMs: env.PRESCIENT_ANALYZER_RETRAIN_MIN_INTERVAL_MS }),
    ...(env.PRESCIENT_ANALYZER_ADVERTISE_ADDR === undefined
      ? {}
      : { advertiseAddress: env.PRESCIENT_ANALYZER_ADVERTISE_ADDR }),
    ...(env.PRESCIENT_ANALYZER_RING_TLS_NAME === undefined
      ? {}
      : { ringTlsName: env.PRESCIENT_ANALYZER_RING_TLS_NAME }),
    ...(env.PRESCIENT_ANALYZER_INGEST_MAX_ENTRIES === undefined
      ? {}
      : { ingestMaxEntries: env.PRESCIENT_ANALYZER_INGEST_MAX_ENTRIES }),
    ...(env.PRESCIENT_ANALYZER_LEARNING_SAVE_S === undefined
      ? {}
      : { learningSaveIntervalMs: env.PRESCIENT_ANALYZER_LEARNING_SAVE_S * 1000 }),
  };
}
