import { errorMessage } from "@prescient/core";
import { z } from "zod";
import { logLevels } from "./logger.js";
import { parseRedisUrl } from "./redis-connection.js";

/** A configuration error: names the variable and what was wrong with it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export const isConfigError = (e: unknown): e is ConfigError => e instanceof ConfigError;

/**
 * Validates environment variables against a zod shape keyed by variable name.
 * Fails fast with every bad variable named, so a misconfigured pod dies at
 * start-up with a readable message instead of misbehaving later.
 */
export function loadEnv<S extends z.ZodRawShape>(
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<S>> {
  // An empty variable counts as unset, as `FOO= cmd` is the shell's way to clear one.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = z.object(shape).safeParse(present);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "(env)");
    const value = env[name];
    const shown = value === undefined ? "unset" : JSON.stringify(value.slice(0, 80));
    return `${name} (${shown}): ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration: ${lines.join("; ")}`);
}

/** `host:port` with a port in 0..65535 (0 picks a free port). */
export const addressSchema = z
  .string()
  // abort: a value that is not host:port at all gets that one message, not also a port complaint.
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
    message: "expected host:port, e.g. 127.0.0.1:50051",
    abort: true,
  })
  .refine((a) => Number(a.slice(a.lastIndexOf(":") + 1)) <= 65535, "port must be at most 65535");

/** An integer from an env string, within bounds; the messages say what was expected, in the variable's terms. */
export const intFromEnv = (min: number, max: number) =>
  z.coerce
    .number({ error: `expected an integer from ${min} to ${max}` })
    .int({ error: `expected an integer from ${min} to ${max}` })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

/** REDIS_URL: a node, a cluster's seed nodes or Sentinels (redis-connection.ts). */
export const redisUrlSchema = z.string().superRefine((url, ctx) => {
  try {
    parseRedisUrl(url, "the URL");
  } catch (e) {
    ctx.addIssue({ code: "custom", message: errorMessage(e) });
  }
});

/** The variables every prescient process reads. */
export const commonEnvShape = {
  /** Where the gRPC server listens. */
  PRESCIENT_ADDR: addressSchema.default("127.0.0.1:50051"),
  /** Port of the Prometheus /metrics HTTP endpoint; 0 turns it off. */
  PRESCIENT_METRICS_PORT: intFromEnv(0, 65535).default(0),
  /** Host the /metrics endpoint binds. */
  PRESCIENT_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  /** How long SIGTERM waits for in-flight calls before forcing. */
  PRESCIENT_DRAIN_TIMEOUT_MS: intFromEnv(0, 600_000).default(10_000),
  /** Largest gRPC message accepted or sent. */
  PRESCIENT_MAX_MESSAGE_BYTES: intFromEnv(1024, 1 << 30).default(16 * 1024 * 1024),
  /** pino level. */
  LOG_LEVEL: z.enum(logLevels).default("info"),
  /** Switches every store from memory to Redis. */
  REDIS_URL: redisUrlSchema.optional(),
  /** Task-type configuration file. */
  PRESCIENT_TASK_TYPES: z.string().min(1).optional(),
};

export type CommonEnv = z.infer<z.ZodObject<typeof commonEnvShape>>;

export function loadCommonEnv(env: NodeJS.ProcessEnv = process.env): CommonEnv {
  return loadEnv(commonEnvShape, env);
}
