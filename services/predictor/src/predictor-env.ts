import { intFromEnv, loadEnv } from "@prescient/kit";
import { z } from "zod";
import type { PredictorOptions } from "./predictor.js";

/** Environment variables of `prescient serve predictor` (and `up`); unset ones keep the defaults. */
export const predictorEnvShape = {
  /** Model repository directory. */
  PRESCIENT_MODEL_REPOSITORY: z.string().min(1).optional(),
  /** Comma-separated models to serve; unset serves every model in the repository. */
  PRESCIENT_MODELS: z.string().min(1).optional(),
  /** Repository poll interval in ms; 0 turns polling off. */
  PRESCIENT_MODEL_POLL_MS: intFromEnv(0, 86_400_000).optional(),
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
  };
}
