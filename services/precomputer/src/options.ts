import { hostname } from "node:os";
import {
  type Clock,
  defaultTaskTypesPath,
  loadTaskTypes,
  systemClock,
  type TaskTypeRegistry,
} from "@prescient/core";
import { addressSchema, createLogger, kitRegistry, type Logger, loadEnv } from "@prescient/kit";
import type { Registry } from "prom-client";
import { z } from "zod";
import type { AnalyzerPeer, CachePeer, ExecutorPeer } from "./adapters/peers.js";
import type { PrecomputerOptions as CoreOptions } from "./core/precomputer-deps.js";
import type { RunStore } from "./core/run-store.js";

export interface PrecomputerOptions {
  /** Task types and the rules:/schedules:/precomputer: sections. Default: the shipped config/task-types.yaml. */
  taskTypes: TaskTypeRegistry;
  /** Where schedule runs are claimed: "memory" (one process), Redis, or a store. Default "memory". */
  store: "memory" | { redisUrl: string; keyPrefix?: string } | RunStore;
  /** The executor: an address or a peer (in process). Undefined: triggers answer UNAVAILABLE. */
  executor: string | ExecutorPeer | undefined;
  /** The cache: an address or a peer. Undefined: nothing is skipped as fresh; refresh-ahead fails its runs. */
  cache: string | CachePeer | undefined;
  /** The analyzer: an address or a peer. Undefined: schedules and predictions fail and retry. */
  analyzer: string | AnalyzerPeer | undefined;
  /** Wake schedules in this process. Default true. */
  runSchedules: boolean;
  /** This replica's name in run records. Default `<hostname>-<pid>`. */
  owner: string;
  /** How often load and alert rules are evaluated into metrics; 0 turns it off. Default 15 s. */
  alertIntervalMs: number;
  /** Registry the predictor's queue-time histogram is read from (same process only). Default the kit's. */
  registry: Registry | undefined;
  core: Partial<CoreOptions>;
  clock: Clock;
  logger: Logger;
}

export function resolvePrecomputerOptions(options: Partial<PrecomputerOptions> = {}): PrecomputerOptions {
  return {
    taskTypes: options.taskTypes ?? loadTaskTypes(defaultTaskTypesPath),
    store: options.store ?? "memory",
    executor: options.executor,
    cache: options.cache,
    analyzer: options.analyzer,
    runSchedules: options.runSchedules ?? true,
    owner: options.owner ?? `${hostname()}-${process.pid}`,
    alertIntervalMs: options.alertIntervalMs ?? 15_000,
    registry: options.registry ?? kitRegistry,
    core: options.core ?? {},
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger("precomputer"),
  };
}

/** Environment of `prescient serve precomputer` (and `up`). */
export const precomputerEnvShape = {
  /** ExecutorService the precomputer enqueues to. */
  PRESCIENT_EXECUTOR_ADDR: addressSchema.optional(),
  /** CacheService read for freshness and refresh-due keys. */
  PRESCIENT_CACHE_ADDR: addressSchema.optional(),
  /** AnalyzerService for patterns, off-peak, launches and predictions. */
  PRESCIENT_ANALYZER_ADDR: addressSchema.optional(),
  /** `false` runs no schedules in this process (it still answers RunScheduleNow). */
  PRESCIENT_PRECOMPUTER_SCHEDULES: z.enum(["true", "false"]).optional(),
  /** This replica's name in run records. */
  PRESCIENT_PRECOMPUTER_OWNER: z.string().min(1).max(128).optional(),
  /**
   * Fresh share below which a kind of trigger key's freshness lookups are
   * only sampled (FreshPeekGateOptions.minFreshRate, 0.02); 0 looks up every key.
   */
  PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE: z.coerce
    .number({ error: "expected a number from 0 to 1" })
    .min(0, { error: "must be at least 0" })
    .max(1, { error: "must be at most 1" })
    .optional(),
};

export function precomputerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<PrecomputerOptions> {
  const e = loadEnv(precomputerEnvShape, env);
  return {
    ...(e.PRESCIENT_EXECUTOR_ADDR !== undefined ? { executor: e.PRESCIENT_EXECUTOR_ADDR } : {}),
    ...(e.PRESCIENT_CACHE_ADDR !== undefined ? { cache: e.PRESCIENT_CACHE_ADDR } : {}),
    ...(e.PRESCIENT_ANALYZER_ADDR !== undefined ? { analyzer: e.PRESCIENT_ANALYZER_ADDR } : {}),
    ...(e.PRESCIENT_PRECOMPUTER_SCHEDULES !== undefined
      ? { runSchedules: e.PRESCIENT_PRECOMPUTER_SCHEDULES === "true" }
      : {}),
    ...(e.PRESCIENT_PRECOMPUTER_OWNER !== undefined ? { owner: e.PRESCIENT_PRECOMPUTER_OWNER } : {}),
    ...(e.PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE !== undefined
      ? { core: { freshPeeks: { minFreshRate: e.PRESCIENT_PRECOMPUTER_FRESH_PEEK_MIN_RATE } } }
      : {}),
  };
}
