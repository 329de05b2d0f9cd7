import { startAnalyzer } from "@prescient/analyzer";
import { startCache } from "@prescient/cache";
import type { TaskTypeRegistry } from "@prescient/core";
import { GrpcTaskHandlers, startExecutor } from "@prescient/executor";
import {
  type CommonEnv,
  createLogger,
  ServiceHost,
  setUpAuth,
  startMetricsServer,
  usePeerTls,
} from "@prescient/kit";
import {
  inProcessAnalyzer,
  inProcessCache,
  inProcessExecutor,
  mountReferenceHandler,
  ReferenceTaskHandlers,
  startPrecomputer,
} from "@prescient/precomputer";
import { startPredictor } from "@prescient/predictor";
import { shutdownTracing } from "@prescient/tracing";
import { loadMeshConfig } from "./mesh-config.js";
import { type Servable, serviceNames, taskHandlerName } from "./services.js";
import { removeWhenDone } from "./temp-dir.js";
import { scalePrecomputerCoreOptions, scaleReporterOptions } from "./time-scale.js";
import {
  GrpcMissHandler,
  InProcessMissHandler,
  queryEventOf,
  queryReporter,
  runtimeModelRepository,
} from "./wiring.js";

export interface MeshOptions {
  /** Services this process runs; `task-handler` is the reference TaskHandlerService (services.ts). */
  services: readonly Servable[];
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

/**
 * Starts the given services on one gRPC server. The whole configuration is
 * validated first (mesh-config.ts), before any service starts or anything
 * binds, so a bad variable fails with its name and nothing half-starts.
 * Services in the same process call each other's cores directly; the others
 * are reached over gRPC at the addresses the environment gives.
 */
export async function startMesh(options: MeshOptions): Promise<Mesh> {
  const config = loadMeshConfig(options.env ?? process.env, {
    ...(options.address !== undefined ? { address: options.address } : {}),
    ...(options.redisUrl !== undefined ? { redisUrl: options.redisUrl } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
  });
  const { env, address, redisUrl, timeScale, taskTypes, peers, tls } = config;
  // Before any client is made: every internal client takes its credentials from here.
  usePeerTls(tls.peer);
  // Likewise the peer token; with auth on, the host checks every call's token.
  const auth = setUpAuth(config.auth, createLogger("auth"));
  const store = redisUrl ? { redisUrl } : ("memory" as const);
  const has = (s: Servable) => options.services.includes(s);
  const predictorEnv = config.predictor;
  const executorEnv = config.executor;
  const analyzerEnv = config.analyzer;
  const host = new ServiceHost({
    address,
    maxMessageBytes: env.PRESCIENT_MAX_MESSAGE_BYTES,
    drainTimeoutMs: env.PRESCIENT_DRAIN_TIMEOUT_MS,
    tls: tls.server,
    healthAddress: tls.healthAddress,
    auth,
  });
  // Registered first so it runs last: spans of the drain itself still get flushed.
  host.onShutdown(() => shutdownTracing());
  // Calls to this process's own services. Over TLS they dial a loopback IP
  // by name: Node 24+ refuses a TLS server name that is an IP, and grpc-js
  // sets one from an IP target, so the certificate must then name localhost.
  const self = (): string => (tls.server ? byLoopbackName(host.address) : host.address);
  const repository =
    predictorEnv.repositoryPath ??
    analyzerEnv.modelRepositoryPath ??
    ownModelRepository(host, has("predictor"));

  const warmups: Promise<unknown>[] = [];
  const inProcessMisses = new InProcessMissHandler();
  const executorAddress = peers.executorAddress;
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
        ...(has("predictor") ? { predictorAddress: tls.server ? byLoopbackName(address) : address } : {}),
        ...(repository ? { modelRepositoryPath: repository } : {}),
      })
    : undefined;
  if (analyzer) warmups.push(analyzer.then((a) => a.ready));
  const analyzerAddress = peers.analyzerAddress;
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
        ...config.cache,
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
  // TaskHandlerService; elsewhere a real handler is named by PRESCIENT_HANDLER_ADDR, and
  // `serve task-handler` is the reference one in a process of its own (mounted once either way).
  const embedded = serviceNames.every(has) && executorEnv.handlerAddress === undefined;
  const handlerFallback = embedded ? new GrpcTaskHandlers(undefined) : undefined;
  if (handlerFallback) host.onShutdown(() => handlerFallback.close());
  if (handlerFallback || has(taskHandlerName)) mountReferenceHandler(host);
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
      ...config.precomputer,
      core: { ...config.precomputer.core, ...scalePrecomputerCoreOptions(timeScale) },
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

/**
 * A private copy of the example models for a predictor in this process (see
 * runtimeModelRepository), removed when the mesh shuts down: after the
 * services' own shutdown hooks, which were registered later and so run
 * earlier, have stopped reading and publishing into it.
 */
function ownModelRepository(host: ServiceHost, needed: boolean): string | undefined {
  if (!needed) return undefined;
  const dir = runtimeModelRepository();
  removeWhenDone(host, dir);
  return dir;
}

/** `localhost:port` for a loopback IP address; other addresses as they are. */
function byLoopbackName(address: string): string {
  return address.replace(/^(127\.\d+\.\d+\.\d+|\[::1\]):/, "localhost:");
}
