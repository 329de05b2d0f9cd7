import { intFromEnv, loadEnv } from "@prescient/kit";
import { z } from "zod";
import type { PredictorOptions } from "./predictor.js";
import { executionProviders } from "./repository/model-config.js";

/** Environment variables of `prescient serve predictor` (and `up`); unset ones keep the defaults. */
export const predictorEnvShape = {
  /** Model repository directory. */
  PRESCIENT_MODEL_REPOSITORY: z.string().min(1).optional(),
  /** Comma-separated models to serve; unset serves every model in the repository. */
  PRESCIENT_MODELS: z.string().min(1).optional(),
  /** Repository poll interval in ms; 0 turns polling off. */
  PRESCIENT_MODEL_POLL_MS: intFromEnv(0, 86_400_000).optional(),
  /** Comma-separated execution providers for every model, e.g. "cuda,cpu"; unset keeps each model's config. */
  PRESCIENT_PREDICTOR_EXECUTION_PROVIDERS: z
    .string()
    .transform((v) => v.split(",").map((p) => p.trim()))
    .pipe(z.array(z.enum(executionProviders)).min(1))
    .optional(),
  /** ONNX Runtime intra-op threads for every model, e.g. the cores the predictor has; unset keeps each model's config. */
  PRESCIENT_PREDICTOR_INTRA_OP_THREADS: intFromEnv(1, 256).optional(),
  /** "true": every model's instances run on worker threads (run_in_worker); "false": on the event loop; unset keeps each model's config. */
  PRESCIENT_PREDICTOR_RUN_IN_WORKER: z.enum(["true", "false"]).optional(),
};

export function predictorOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<PredictorOptions> {
  const e = loadEnv(predictorEnvShape, env);
  return {
    ...(e.PRESCIENT_MODEL_REPOSITORY !== undefined ? { repositoryPath: e.PRESCIENT_MODEL_REPOSITORY } : {}),
    ...(e.PRESCIENT_MODELS !== undefined
      ? {
          models: e.PRESCIENT_MODELS.split(",")
            .map((m) => m.trim())
            .filter(Boolean),
        }
      : {}),
    ...(e.PRESCIENT_MODEL_POLL_MS !== undefined ? { pollIntervalMs: e.PRESCIENT_MODEL_POLL_MS } : {}),
    ...(e.PRESCIENT_PREDICTOR_EXECUTION_PROVIDERS !== undefined
      ? { executionProviders: e.PRESCIENT_PREDICTOR_EXECUTION_PROVIDERS }
      : {}),
    ...(e.PRESCIENT_PREDICTOR_INTRA_OP_THREADS !== undefined
      ? { intraOpThreads: e.PRESCIENT_PREDICTOR_INTRA_OP_THREADS }
      : {}),
    ...(e.PRESCIENT_PREDICTOR_RUN_IN_WORKER !== undefined
      ? { runInWorker: e.PRESCIENT_PREDICTOR_RUN_IN_WORKER === "true" }
      : {}),
  };
}
