import { analyzerEnvShape, analyzerOptionsFromEnv, startAnalyzer } from "@prescient/analyzer";
import { startCache } from "@prescient/cache";
import {
  defaultTaskTypesPath,
  InvalidArgumentError,
  loadTaskTypes,
  type TaskTypeRegistry,
} from "@prescient/core";
import { executorOptionsFromEnv, GrpcTaskHandlers, startExecutor } from "@prescient/executor";
import {
  addressSchema,
  type CommonEnv,
  createLogger,
  loadCommonEnv,
  loadEnv,
  ServiceHost,
  startMetricsServer,
} from "@prescient/kit";
import {
  inProcessAnalyzer,
  inProcessCache,
  inProcessExecutor,
  mountReferenceHandler,
  precomputerOptionsFromEnv,
  ReferenceTaskHandlers,
  startPrecomputer,
} from "@prescient/precomputer";
import { predictorOptionsFromEnv, startPredictor } from "@prescient/predictor";
import { shutdownTracing } from "@prescient/tracing";
import { type ServiceName, serviceNames } from "./services.js";
import {
  scaleAnalyzerOptions,
  scalePrecomputerCoreOptions,
  scaleReporterOptions,
  scaleTaskTypeConfig,
  timeScaleEnvShape,
} from "./time-scale.js";
import {
  GrpcMissHandler,
  InProcessMissHandler,
  queryEventOf,
  queryReporter,
  runtimeModelRepository,
} from "./wiring.js";

export interface MeshOptions {
  /** Services this process runs. */
  services: readonly ServiceName[];
  /** Overrides PRESCIENT_ADDR. */
  address?: string;
  /** Overrides REDIS_URL; unset means in-memory stores. */
  redisUrl?: string;
  /** Overrides PRESCIENT_TIME_SCALE: the mesh's policy lives this many times faster (time-scale.ts). */
  timeScale?: number;
  env?: NodeJS.ProcessEnv;
}

export interface Mesh {
  host: ServiceHost;
  env: CommonEnv;
  /** The task types as the services run them: TTLs and precomputer periods time-scaled. */
  taskTypes: TaskTypeRegistry;
  timeScale: number;
  /** Resolves when every service this process implements reports SERVING. */
  ready: Promise<void>;
  close(): Promise<void>;
}

const log = createLogger("mesh");

/** Peers a service reaches over gRPC when they do not run in this process. */
const peerEnvShape = {
  /** ExecutorService, for the cache's ENQUEUE and COMPUTE misses. */
  PRESCIENT_EXECUTOR_ADDR: addressSchema.optional(),
  /** AnalyzerService, for the cache's query log. */
  PRESCIENT_ANALYZER_ADDR: addressSchema.optional(),
};

/**
 * Starts the given services on one gRPC server. Configuration is validated
 * before anything binds, so a bad variable fails fast with its name. Services
 * in the same process call each other's cores directly; the others are
 * reached over gRPC at the addresses the environment gives.
 */
export async function startMesh(options: MeshOptions): Promise<Mesh> {
  const rawEnv = options.env ?? process.env;
  const env = loadCommonEnv(rawEnv);
  const address = options.address ?? env.PRESCIENT_ADDR;
  const redisUrl = options.redisUrl || env.REDIS_URL;
  const store = redisUrl ? { redisUrl } : ("memory" as const);
  const timeScale = options.timeScale ?? loadEnv(timeScaleEnvShape, rawEnv).PRESCIENT_TIME_SCALE;
  if (!(Number.isFinite(timeScale) && timeScale > 0))
    throw new InvalidArgumentError(`the time scale must be a positive number, not ${timeScale}`);
  const taskTypes = scaleTaskTypeConfig(
    loadTaskTypes(env.PRESCIENT_TASK_TYPES ?? defaultTaskTypesPath),
    timeScale,
  );
  const has = (s: ServiceName) => options.services.includes(s);
  const predictorEnv = predictorOptionsFromEnv(rawEnv);
  const executorEnv = executorOptionsFromEnv(rawEnv);
  const analyzerEnv = scaleAnalyzerOptions(
    analyzerOptionsFromEnv(loadEnv(analyzerEnvShape, rawEnv)),
    timeScale,
  );
  const peers = loadEnv(peerEnvShape, rawEnv);
  const host = new ServiceHost({
    address,
    maxMessageBytes: env.PRESCIENT_MAX_MESSAGE_BYTES,
    drainTimeoutMs: env.PRESCIENT_DRAIN_TIMEOUT_MS,
  });
  // Registered first so it runs last: spans of the drain itself still get flushed.
  host.onShutdown(() => shutdownTracing());
  const self = (): string => host.address;
  const repository =
    predictorEnv.repositoryPath ??
    analyzerEnv.modelRepositoryPath ??
    (has("predictor") ? runtimeModelRepository() : undefined);

  const warmups: Promise<unknown>[] = [];
  const inProcessMisses = new InProcessMissHandler();
  const executorAddress = peers.PRESCIENT_EXECUTOR_ADDR;
  const missHandler = has("executor")
    ? inProcessMisses
    : executorAddress
      ? new GrpcMissHandler(executorAddress)
      : undefined;
  if (missHandler instanceof GrpcMissHandler) host.onShutdown(() => missHandler.close());

  const analyzer = has("analyzer")
    ? startAnalyzer(host, {
        ...analyzerEnv,
        store,
        ...(has("predictor") ? { predictorAddress: address } : {}),
        ...(repository ? { modelRepositoryPath: repository } : {}),
      })
    : undefined;
  if (analyzer) warmups.push(analyzer.then((a) => a.ready));
  const analyzerAddress = peers.PRESCIENT_ANALYZER_ADDR;
  const reporterOptions = scaleReporterOptions(timeScale);
  const reporter = analyzer
    ? queryReporter(
        analyzer.then((a) => a.analyzer),
        reporterOptions,
      )
    : analyzerAddress
      ? queryReporter(analyzerAddress, reporterOptions)
      : undefined;
  if (reporter) host.onShutdown(() => reporter.close());

  const cache = has("cache")
    ? startCache(host, {
        taskTypes,
        store,
        env: rawEnv,
        ...(missHandler ? { missHandler } : {}),
        ...(reporter ? { lookupObserver: (lookup) => reporter.report(queryEventOf(lookup)) } : {}),
      })
    : undefined;
  if (cache) warmups.push(cache);
  if (has("predictor")) {
    warmups.push(
      startPredictor(host, { ...predictorEnv, ...(repository ? { repositoryPath: repository } : {}) }).ready,
    );
  }
  // `up` runs the example external task types on the reference handler, in process and as a
  // TaskHandlerService; elsewhere a real handler is named by PRESCIENT_HANDLER_ADDR.
  const embedded = serviceNames.every(has) && executorEnv.handlerAddress === undefined;
  const handlerFallback = embedded ? new GrpcTaskHandlers(undefined) : undefined;
  if (handlerFallback) {
    mountReferenceHandler(host);
    host.onShutdown(() => handlerFallback.close());
  }
  const executor = has("executor")
    ? startExecutor(host, {
        taskTypes,
        store,
        ...executorEnv,
        ...(handlerFallback ? { handlers: new ReferenceTaskHandlers(handlerFallback) } : {}),
        ...(has("predictor") ? { predictor: self } : {}),
        ...(cache
          ? { sink: { putMany: async (entries) => void (await (await cache).core.putMany({ entries })) } }
          : {}),
      })
    : undefined;
  if (executor) {
    inProcessMisses.core = executor.core;
    warmups.push(executor.ready);
  }
  if (has("precomputer")) {
    // Peers in this process are called directly; the others at PRESCIENT_*_ADDR.
    const precomputer = startPrecomputer(host, {
      taskTypes,
      store,
      ...precomputerOptionsFromEnv(rawEnv),
      core: scalePrecomputerCoreOptions(timeScale),
      ...(executor ? { executor: inProcessExecutor(executor.core, executor.entities) } : {}),
      ...(cache ? { cache: inProcessCache(cache.then((c) => c.core)) } : {}),
      ...(analyzer ? { analyzer: inProcessAnalyzer(analyzer.then((a) => a.analyzer)) } : {}),
    });
    warmups.push(precomputer.ready);
  }

  await host.start();
  const metrics =
    env.PRESCIENT_METRICS_PORT > 0
      ? await startMetricsServer(env.PRESCIENT_METRICS_PORT, env.PRESCIENT_METRICS_HOST)
      : undefined;
  if (metrics) host.onShutdown(() => metrics.close());

  const ready = Promise.all(warmups).then(() => {
    log.info(
      {
        address: host.address,
        store: redisUrl ? "redis" : "memory",
        services: options.services,
        ...(timeScale !== 1 ? { timeScale } : {}),
      },
      "mesh ready",
    );
  });
  ready.catch((err: unknown) => log.error({ err }, "a service failed to start"));
  return { host, env, taskTypes, timeScale, ready, close: () => host.shutdown() };
}
