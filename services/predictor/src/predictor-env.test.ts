import { isConfigError } from "@prescient/kit";
import { describe, expect, it } from "vitest";
import { predictorOptionsFromEnv } from "./predictor-env.js";

describe("predictorOptionsFromEnv", () => {
  it("reads the repository, models, polling and a provider override", () => {
    expect(
      predictorOptionsFromEnv({
        PRESCIENT_MODEL_REPOSITORY: "/models",
        PRESCIENT_MODELS: "ctr_prediction, roas_prediction",
        PRESCIENT_MODEL_POLL_MS: "0",
        PRESCIENT_PREDICTOR_EXECUTION_PROVIDERS: "cuda,cpu",
        PRESCIENT_PREDICTOR_INTRA_OP_THREADS: "2",
        PRESCIENT_PREDICTOR_RUN_IN_WORKER: "true",
      }),
    ).toEqual({
      repositoryPath: "/models",
      models: ["ctr_prediction", "roas_prediction"],
      pollIntervalMs: 0,
      executionProviders: ["cuda", "cpu"],
      intraOpThreads: 2,
      runInWorker: true,
    });
    expect(predictorOptionsFromEnv({ PRESCIENT_PREDICTOR_RUN_IN_WORKER: "false" })).toEqual({
      runInWorker: false,
    });
    expect(predictorOptionsFromEnv({})).toEqual({});
  });

  it.each([
    ["an unknown provider", "PRESCIENT_PREDICTOR_EXECUTION_PROVIDERS", "cuda,tpu"],
    ["a bad thread count", "PRESCIENT_PREDICTOR_INTRA_OP_THREADS", "0"],
    ["a run_in_worker override that is no boolean", "PRESCIENT_PREDICTOR_RUN_IN_WORKER", "yes"],
  ])("names the variable of %s", (_, variable, value) => {
    let error: unknown;
    try {
      predictorOptionsFromEnv({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain(variable);
  });
});
