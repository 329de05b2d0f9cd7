import { fileURLToPath } from "node:url";
import { inference, predictorV1 } from "@prescient/contracts";
import { errorMessage, FailedPreconditionError } from "@prescient/core";
import { createLogger, type Logger, type ServiceHost } from "@prescient/kit";
import { InferenceMetrics } from "./metrics.js";
import type { ExecutionProviderName } from "./repository/model-config.js";
import { ModelRepository } from "./repository/model-repository.js";
import { inferenceService, inferenceServiceName } from "./service/inference-service.js";
import { repositoryService, repositoryServiceName } from "./service/repository-service.js";

export interface PredictorOptions {
  /** Model repository directory. Default: the shipped example models (services/predictor/models). */
  repositoryPath: string;
  /** Models to serve; undefined serves every model in the repository. Default undefined. */
  models: string[] | undefined;
  /** How often to rescan the repository for new or changed versions; 0 turns polling off. Default 5000. */
  pollIntervalMs: number;
  /** Execution providers for every model, in order of preference; undefined keeps each model's config. Default undefined. */
  executionProviders: ExecutionProviderName[] | undefined;
  /** ONNX Runtime intra-op threads for every model's sessions; undefined keeps each model's intra_op_threads. Default undefined. */
  intraOpThreads: number | undefined;
  /** Every model's instances on worker threads (true) or the event loop (false); undefined keeps each model's run_in_worker. Default undefined. */
  runInWorker: boolean | undefined;
  /** Name in ServerMetadata. Default "prescient-predictor". */
  serverName: string;
  logger: Logger;
}

export const shippedModelsPath: string = fileURLToPath(new URL("../models/", import.meta.url));

const defaults = (): PredictorOptions => ({
  repositoryPath: shippedModelsPath,
  models: undefined,
  pollIntervalMs: 5000,
  executionProviders: undefined,
  intraOpThreads: undefined,
  runInWorker: undefined,
  serverName: "prescient-predictor",
  logger: createLogger("predictor"),
});

export interface PredictorRuntime {
  readonly repository: ModelRepository;
  /**
   * Resolves once the configured models are loaded (health turns SERVING);
   * rejects naming the ones that failed. Health keeps following the models
   * afterwards: NOT_SERVING whenever a configured one has no ready version.
   */
  readonly ready: Promise<void>;
  isReady(): boolean;
  /** Stops polling and unloads every model, letting queued requests finish. Idempotent. */
  close(): Promise<void>;
}

export const predictorServiceNames = [inferenceServiceName, repositoryServiceName] as const;

/**
 * Mounts the predictor on a shared ServiceHost: the OIP inference service and
 * the repository service, NOT_SERVING until the configured models are loaded.
 * Loading runs in the background so the host can listen (and answer health
 * probes) meanwhile.
 */
export function startPredictor(host: ServiceHost, options?: Partial<PredictorOptions>): PredictorRuntime {
  const o = { ...defaults(), ...options };
  const repository = new ModelRepository({
    root: o.repositoryPath,
    models: o.models,
    executionProviders: o.executionProviders,
    intraOpThreads: o.intraOpThreads,
    runInWorker: o.runInWorker,
    logger: o.logger,
  });
  const metrics = InferenceMetrics.for();
  metrics.repository = repository;
  let ready = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  host.addService(
    inferenceServiceName,
    inference.GRPCInferenceServiceService,
    inferenceService({
      repository,
      isReady: () => ready && !closed,
      serverName: o.serverName,
      serverVersion: "0.1.0",
    }),
  );
  host.addService(
    repositoryServiceName,
    predictorV1.ModelRepositoryServiceService,
    repositoryService(repository, () => update()),
  );

  /** The models that must have a ready version for the inference service to serve. */
  let required: string[] | undefined;
  /**
   * Inference health follows the configured models: an UnloadModel of one,
   * or a reload that left it without a ready version, turns it NOT_SERVING
   * (and so the pod unready) until a LoadModel or a fixed file brings it back.
   * The repository service stays SERVING once the first load is done: its
   * LoadModel is how an operator repairs the predictor.
   */
  const update = (): void => {
    if (closed || required === undefined) return;
    const missing = required.filter((m) => repository.readyVersions(m).length === 0);
    const now = missing.length === 0;
    host.setServing(repositoryServiceName, true);
    if (now === ready) return;
    ready = now;
    host.setServing(inferenceServiceName, now);
    if (now) o.logger.info({ models: required }, "predictor serving: every configured model is ready");
    else o.logger.warn({ missing }, "predictor NOT_SERVING: configured models have no ready version");
  };

  const initial = (async () => {
    const wanted = await repository.wantedModels();
    const failures: string[] = [];
    for (const name of wanted) {
      const statuses = await repository.load(name).catch((e: unknown) => {
        failures.push(`${name}: ${errorMessage(e)}`);
        return [];
      });
      for (const s of statuses.filter((v) => v.state === "FAILED"))
        failures.push(`${name} version ${s.version}: ${s.reason}`);
      if (statuses.length > 0 && !statuses.some((s) => s.state === "READY"))
        failures.push(`${name}: no version ready`);
    }
    return { wanted, failures };
  })();

  const readyPromise = initial.then(({ wanted, failures }) => {
    required = wanted;
    if (o.pollIntervalMs > 0) {
      timer = setInterval(() => {
        void repository
          .poll()
          // Re-read after the pass, when every newly listed model has had its
          // load attempt, so a model being added does not flap readiness.
          .then(() => repository.wantedModels())
          .then((now) => {
            required = now;
            // A model that failed at start but was fixed on disk lets the server turn ready.
            update();
          })
          .catch((e: unknown) => o.logger.warn({ err: errorMessage(e) }, "model repository poll failed"));
      }, o.pollIntervalMs);
      timer.unref();
    }
    update();
    if (failures.length > 0)
      throw new FailedPreconditionError(`predictor: models failed to load: ${failures.join("; ")}`);
    o.logger.info({ models: wanted, repository: o.repositoryPath }, "predictor ready");
  });
  // The caller may not await `ready`; the failure is logged here either way.
  readyPromise.catch((e: unknown) => o.logger.error({ err: errorMessage(e) }, "predictor not ready"));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await initial.catch(() => undefined);
      await repository.close();
    })();
    return closing;
  };
  host.onShutdown(close);

  return { repository, ready: readyPromise, isReady: () => ready && !closed, close };
}
