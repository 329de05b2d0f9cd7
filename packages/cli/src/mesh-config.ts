import { analyzerEnvShape, analyzerOptionsFromEnv } from "@prescient/analyzer";
import { cacheEnvShape, cacheOptionsFromEnv } from "@prescient/cache";
import { defaultTaskTypesPath, errorMessage, loadTaskTypes, type TaskTypeRegistry } from "@prescient/core";
import { executorEnvShape, executorOptionsFromEnv } from "@prescient/executor";
import {
  type AuthConfig,
  addressSchema,
  authConfigFrom,
  authEnvShape,
  type CommonEnv,
  ConfigError,
  commonEnvShape,
  loadEnv,
  redisUrlSchema,
  type TlsConfig,
  tlsConfigFrom,
  tlsEnvShape,
} from "@prescient/kit";
import {
  parsePrecomputerConfig,
  precomputerEnvShape,
  precomputerOptionsFromEnv,
  validateCron,
} from "@prescient/precomputer";
import { predictorEnvShape, predictorOptionsFromEnv } from "@prescient/predictor";
import type { z } from "zod";
import { scaleAnalyzerOptions, scaleTaskTypeConfig, timeScaleEnvShape } from "./time-scale.js";

/** Peers a service reaches over gRPC when they do not run in this process. */
const peerEnvShape = {
  /** ExecutorService, for the cache's ENQUEUE and COMPUTE misses. */
  PRESCIENT_EXECUTOR_ADDR: addressSchema.optional(),
  /** AnalyzerService, for the cache's query log. */
  PRESCIENT_ANALYZER_ADDR: addressSchema.optional(),
};

/**
 * Every variable a mesh process reads, whichever services it runs. Checked
 * in one pass, so that one line names every bad variable at once rather than
 * the first of each service's. Services that share a variable (REDIS_URL,
 * the peer addresses) read it with the same schema.
 */
export const meshEnvShape = {
  ...commonEnvShape,
  ...tlsEnvShape,
  ...authEnvShape,
  ...timeScaleEnvShape,
  ...peerEnvShape,
  ...predictorEnvShape,
  ...executorEnvShape,
  ...analyzerEnvShape,
  ...precomputerEnvShape,
  ...cacheEnvShape,
};

/** What the command line gives, each overriding its variable. */
export interface MeshOverrides {
  /** Overrides PRESCIENT_ADDR (`--host`/`--port`, `--addr`). */
  address?: string;
  /** Overrides REDIS_URL (`--redis`). */
  redisUrl?: string;
  /** Overrides PRESCIENT_TIME_SCALE (`--time-scale`). */
  timeScale?: number;
}

/** A mesh's whole configuration, validated: nothing in it can fail a service's start. */
export interface MeshConfig {
  env: CommonEnv;
  address: string;
  /** Unset means in-memory stores. */
  redisUrl: string | undefined;
  timeScale: number;
  /** The task types as the services run them: TTLs and precomputer periods time-scaled. */
  taskTypes: TaskTypeRegistry;
  peers: { executorAddress: string | undefined; analyzerAddress: string | undefined };
  /** The server's certificate and how peers are called; both plaintext when no TLS variable is set. */
  tls: TlsConfig;
  /** Bearer-token auth; off (every call let in) when neither a tokens file nor a JWKS is set. */
  auth: AuthConfig;
  predictor: ReturnType<typeof predictorOptionsFromEnv>;
  executor: ReturnType<typeof executorOptionsFromEnv>;
  /** Time-scaled. */
  analyzer: ReturnType<typeof analyzerOptionsFromEnv>;
  precomputer: ReturnType<typeof precomputerOptionsFromEnv>;
  cache: ReturnType<typeof cacheOptionsFromEnv>;
}

/**
 * Validates everything a mesh reads (every variable, the command line's
 * overrides, the task-type file and its precomputer section) before any
 * service starts. A service that validated its own options at its start would
 * fail only after the ones started before it were running (schedules included),
 * so `up` would half-start, then die. Throws a ConfigError whose message is one
 * line that names what is wrong.
 */
export function loadMeshConfig(rawEnv: NodeJS.ProcessEnv, overrides: MeshOverrides = {}): MeshConfig {
  const e = loadEnv(meshEnvShape, rawEnv);
  if (overrides.address !== undefined) checkOverride("the address", addressSchema, overrides.address);
  if (overrides.redisUrl) checkOverride("--redis", redisUrlSchema, overrides.redisUrl);
  const timeScale = overrides.timeScale ?? e.PRESCIENT_TIME_SCALE;
  if (!(Number.isFinite(timeScale) && timeScale > 0))
    throw new ConfigError(
      `invalid configuration: the time scale must be a positive number, not ${timeScale}`,
    );
  const taskTypes = loadTaskTypeFile(e.PRESCIENT_TASK_TYPES, timeScale);
  const tls = tlsConfigFrom(e);
  const auth = authConfigFrom(e);
  return {
    env: loadEnv(commonEnvShape, rawEnv),
    address: overrides.address ?? e.PRESCIENT_ADDR,
    redisUrl: overrides.redisUrl || e.REDIS_URL,
    timeScale,
    taskTypes,
    peers: { executorAddress: e.PRESCIENT_EXECUTOR_ADDR, analyzerAddress: e.PRESCIENT_ANALYZER_ADDR },
    tls,
    auth,
    predictor: predictorOptionsFromEnv(rawEnv),
    executor: executorOptionsFromEnv(rawEnv),
    analyzer: scaleAnalyzerOptions(analyzerOptionsFromEnv(e), timeScale),
    precomputer: precomputerOptionsFromEnv(rawEnv),
    cache: cacheOptionsFromEnv(e),
  };
}

function checkOverride(what: string, schema: z.ZodType<string>, value: string): void {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new ConfigError(
      `invalid configuration: ${what} (${JSON.stringify(value)}): ${result.error.issues[0]?.message ?? "invalid"}`,
    );
}

/**
 * The task types and the precomputer's rules and schedules, parsed as the
 * precomputer will parse them at its start, so a bad file stops the mesh
 * before anything runs. Errors name PRESCIENT_TASK_TYPES when it chose the
 * file; a broken default file is a broken checkout and says its path.
 */
function loadTaskTypeFile(path: string | undefined, timeScale: number): TaskTypeRegistry {
  const file = path ?? defaultTaskTypesPath;
  try {
    const raw = loadTaskTypes(file);
    parsePrecomputerConfig(raw.raw, raw, validateCron, "precomputer configuration");
    return scaleTaskTypeConfig(raw, timeScale);
  } catch (e) {
    const where = path === undefined ? file : `PRESCIENT_TASK_TYPES (${JSON.stringify(path)})`;
    // One line: the parsers join their issues with "; ", but a YAML error quotes the source.
    throw new ConfigError(`invalid configuration: ${where}: ${oneLine(errorMessage(e))}`);
  }
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim();
