import { precomputerV1 } from "@prescient/contracts";
import { errorMessage, UnavailableError } from "@prescient/core";
import { type ServiceHost, watchRedisHealth } from "@prescient/kit";
import { domainAttribute as attr, boundedAttributes, runQuietly, withWorkSpan } from "@prescient/tracing";
import { grpcAnalyzer, grpcCache, grpcExecutor } from "./adapters/grpc.js";
import { MeshLoadProbe } from "./adapters/load-probe.js";
import type { AnalyzerPeer, CachePeer, ExecutorPeer } from "./adapters/peers.js";
import { parsePrecomputerConfig } from "./core/config.js";
import { Precomputer } from "./core/precomputer.js";
import type { RunStore } from "./core/run-store.js";
import { validateCron } from "./core/schedule-window.js";
import { type PrecomputerOptions, resolvePrecomputerOptions } from "./options.js";
import { PrecomputerMetrics } from "./service/metrics.js";
import { precomputerServiceImplementation, precomputerServiceName } from "./service/precomputer-service.js";
import { ScheduleRunner } from "./service/schedule-runner.js";
import { MemoryRunStore } from "./store/memory-run-store.js";
import { RedisRunStore } from "./store/redis-run-store.js";

export interface PrecomputerRuntime {
  core: Precomputer;
  runs: RunStore;
  runner: ScheduleRunner | undefined;
  /** Resolves once the run store answers and the service is SERVING. */
  ready: Promise<void>;
  /** Stops the schedules (runs under way finish), then closes peers and the store. Idempotent. */
  close(): Promise<void>;
}

const absent = (what: string, variable: string) => (): Promise<never> =>
  Promise.reject(new UnavailableError(`no ${what} is configured: set ${variable} or run it in this process`));

const noExecutor: ExecutorPeer = {
  sink: { enqueueMany: absent("executor", "PRESCIENT_EXECUTOR_ADDR") },
  queueDepth: absent("executor", "PRESCIENT_EXECUTOR_ADDR"),
  close: () => {},
};
const noCache: CachePeer = {
  expiries: absent("cache", "PRESCIENT_CACHE_ADDR"),
  takeRefreshDue: absent("cache", "PRESCIENT_CACHE_ADDR"),
  counters: absent("cache", "PRESCIENT_CACHE_ADDR"),
  close: () => {},
};
const missingAnalyzer = absent("analyzer", "PRESCIENT_ANALYZER_ADDR");
const noAnalyzer: AnalyzerPeer = {
  topPatterns: missingAnalyzer,
  offPeakWindow: missingAnalyzer,
  upcomingLaunches: missingAnalyzer,
  predictNextActions: missingAnalyzer,
  predictNextKeys: missingAnalyzer,
  takeReadAhead: missingAnalyzer,
  retrainNextAction: missingAnalyzer,
  cleanup: missingAnalyzer,
  // Without an analyzer nothing is learned: configured rules only, no relations.
  recordEvents: async () => {},
  learnedRules: async () => [],
  relatedEntities: async () => [],
  close: () => {},
};

/**
 * Mounts prescient.precomputer.v1.PrecomputerService on the host and, once
 * the run store answers, starts the schedule runner. The configuration is
 * validated first, so a bad rule or schedule stops start-up with its path.
 */
export function startPrecomputer(
  host: ServiceHost,
  options?: Partial<PrecomputerOptions>,
): PrecomputerRuntime {
  const o = resolvePrecomputerOptions(options);
  const config = parsePrecomputerConfig(
    o.taskTypes.raw,
    o.taskTypes,
    validateCron,
    "precomputer configuration",
  );
  const executor = typeof o.executor === "string" ? grpcExecutor(o.executor) : (o.executor ?? noExecutor);
  const cache = typeof o.cache === "string" ? grpcCache(o.cache) : (o.cache ?? noCache);
  const analyzer = typeof o.analyzer === "string" ? grpcAnalyzer(o.analyzer) : (o.analyzer ?? noAnalyzer);
  const runs: RunStore =
    o.store === "memory"
      ? new MemoryRunStore()
      : "redisUrl" in o.store
        ? new RedisRunStore(
            o.store.redisUrl,
            o.store.keyPrefix !== undefined ? { keyPrefix: o.store.keyPrefix } : {},
          )
        : o.store;
  const load = new MeshLoadProbe({
    executor,
    cache,
    clock: o.clock,
    ...(o.registry ? { registry: o.registry } : {}),
  });
  const core = new Precomputer(
    {
      taskTypes: o.taskTypes,
      config,
      executor: executor.sink,
      cache,
      analyzer,
      runs,
      load,
      ...(executor.upsertFeatures ? { upsertFeatures: executor.upsertFeatures } : {}),
      ...(executor.featuresStored ? { featuresStored: executor.featuresStored } : {}),
      traceRun: (run, fn) =>
        withWorkSpan(
          "precomputer.schedule_run",
          boundedAttributes({ [attr.schedule]: run.schedule, [attr.job]: run.job, [attr.run]: run.runKey }),
          fn,
        ),
      clock: o.clock,
      log: o.logger,
      owner: o.owner,
    },
    o.core,
  );
  const metrics = PrecomputerMetrics.for(o.registry);
  metrics.mirrorCounters(core.counters);
  host.addService(
    precomputerServiceName,
    precomputerV1.PrecomputerServiceService,
    precomputerServiceImplementation(core),
  );
  if (runs instanceof RedisRunStore)
    watchRedisHealth(host, [precomputerServiceName], runs.client, { logger: o.logger });
  if (o.runSchedules)
    metrics.trackSchedules([...config.schedules.values()].filter((s) => s.enabled).map((s) => s.name));
  const runner = o.runSchedules
    ? new ScheduleRunner(core, o.logger, o.clock, {
        onRun: metrics.recordRun,
        onWindowClosed: metrics.windowClosed,
      })
    : undefined;

  let alertTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      host.setServing(precomputerServiceName, false);
      if (alertTimer) clearInterval(alertTimer);
      await runner?.stop();
      executor.close();
      cache.close();
      analyzer.close();
      await runs.close();
    })();
    return closing;
  };
  host.onShutdown(close);

  const ready = (async () => {
    await runs.ready();
    if (closing) return;
    void runner?.start();
    if (o.alertIntervalMs > 0) {
      alertTimer = setInterval(() => {
        // Load sampling polls the executor and the cache: routine, so untraced.
        runQuietly(() => core.stats()).then(
          (s) => metrics.recordAlerts(s.alerts, s.budget),
          (err: unknown) => o.logger.warn({ err: errorMessage(err) }, "load sampling failed"),
        );
      }, o.alertIntervalMs);
      alertTimer.unref();
    }
    host.setServing(precomputerServiceName, true);
    o.logger.info(
      {
        store: runs.name,
        rules: config.rules.size,
        schedules: runner ? [...config.schedules.keys()] : "off",
        owner: o.owner,
      },
      "precomputer serving",
    );
  })();
  ready.catch((err: unknown) => o.logger.error({ err: errorMessage(err) }, "precomputer failed to start"));
  return { core, runs, runner, ready, close };
}
