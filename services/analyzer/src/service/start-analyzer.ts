import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyzerV1 } from "@prescient/contracts";
import { errorMessage } from "@prescient/core";
import { countFailures, type RedisClient, type ServiceHost, watchRedisHealth } from "@prescient/kit";
import { Analyzer } from "../analyzer.js";
import { FileModelPublisher } from "../model/file-publisher.js";
import { OipScorer } from "../model/oip-scorer.js";
import { InProcessScorer } from "../model/onnx-scorer.js";
import type { NextActionScorer } from "../model/ports.js";
import { type AnalyzerOptions, resolveOptions } from "../options.js";
import { RingMembership } from "../ring/ring-membership.js";
import { TenantRing } from "../ring/tenant-ring.js";
import { decayRatesOf } from "../settings.js";
import { AggregatingStore } from "../store/aggregating-store.js";
import type { AnalyzerStore } from "../store/analyzer-store.js";
import { MemoryAnalyzerStore } from "../store/memory-store.js";
import { defaultKeyPrefix, openRedisAnalyzerStore } from "../store/open-redis-store.js";
import { analyzerService, analyzerServiceName } from "./analyzer-service.js";
import { AnalyzerMetrics } from "./metrics.js";
import { periodicJob } from "./periodic-job.js";
import { RingHandover } from "./ring-handover.js";
import { RingRouter } from "./ring-router.js";

export interface AnalyzerRuntime {
  readonly analyzer: Analyzer;
  readonly options: AnalyzerOptions;
  /** Where next-action versions are published. */
  readonly modelRepositoryPath: string;
  /** The live analyzer replicas this one shares tenants with, itself included; [] without a ring. */
  ringMembers(): readonly string[];
  /** Whether this replica holds the tenant's events and learned state in its view of the ring (always, alone). */
  ownsTenant(tenant: string): boolean;
  /** Resolves once the store is ready and the service reports SERVING. */
  readonly ready: Promise<void>;
  /** Stops the schedules and closes the scorer and the store. Idempotent; also runs on host shutdown. */
  close(): Promise<void>;
}

/** How long to wait between attempts to reach the store at start. */
const readyRetryMs = 2_000;

/**
 * Mounts the analyzer on a ServiceHost: NOT_SERVING until its store answers,
 * then SERVING; scheduled retraining, clean-up and (with Redis) saves of the
 * learned state; a shutdown hook that saves it once more.
 */
export async function startAnalyzer(
  host: ServiceHost,
  options?: Partial<AnalyzerOptions>,
): Promise<AnalyzerRuntime> {
  const o = resolveOptions(options);
  const opened =
    o.store === "memory"
      ? { store: new MemoryAnalyzerStore(), redis: undefined }
      : openRedisAnalyzerStore({
          redisUrl: o.store.redisUrl,
          ...(o.store.keyPrefix === undefined ? {} : { keyPrefix: o.store.keyPrefix }),
          shards: o.storeShards,
          // The analyzer's own rates: a sharded store's reads need them before this process writes.
          rates: decayRatesOf(o),
        });
  const store: AnalyzerStore = opened.store;
  const ownRepository = o.modelRepositoryPath === undefined;
  const repository = o.modelRepositoryPath ?? (await mkdtemp(join(tmpdir(), "prescient-analyzer-models-")));
  const scorer: NextActionScorer =
    o.predictorAddress === undefined
      ? new InProcessScorer()
      : new OipScorer(o.predictorAddress, o.modelName, o.predictorTimeoutMs);
  const metrics = AnalyzerMetrics.for();
  // Store failures are counted at the store's boundary, whichever part of the analyzer called.
  const counted = countFailures(store, metrics.onStoreError);
  // Closing it flushes the held counters before the store closes: SIGTERM drains the host, then closes.
  const analyzerStore: AnalyzerStore =
    o.ingestFlushIntervalMs === 0
      ? counted
      : new AggregatingStore(
          counted,
          {
            flushIntervalMs: o.ingestFlushIntervalMs,
            maxEntries: o.ingestMaxEntries,
            maxBytes: o.ingestMaxBytes,
          },
          {
            onFlushError: (e) =>
              o.logger.warn({ err: errorMessage(e) }, "writing aggregated query counters failed; retrying"),
            onLost: (events, e) => {
              metrics.events("query", "dropped", events);
              o.logger.error(
                { err: errorMessage(e), events },
                "query counters lost at close: the store failed",
              );
            },
          },
        );
  const analyzer = new Analyzer(
    {
      store: analyzerStore,
      publisher: new FileModelPublisher(repository, o.modelName),
      scorer,
      log: o.logger,
      observer: metrics,
    },
    o,
  );
  const ring = joinRing(o, opened.redis, metrics, analyzer);
  host.addService(
    analyzerServiceName,
    analyzerV1.AnalyzerServiceService,
    analyzerService(analyzer, ring?.router),
  );
  if (opened.redis !== undefined)
    watchRedisHealth(host, [analyzerServiceName], opened.redis, { logger: o.logger });
  const unwatch = metrics.watch(analyzer);

  // In a ring, a replica saves only the tenants it owns and has taken over: of others it holds stale copies.
  const savable = ring === undefined ? undefined : (t: string) => ring.handover.savable(t);
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, what: string, job: () => Promise<unknown>): void => {
    const t = periodicJob(ms, job, (e) =>
      o.logger.error({ err: errorMessage(e) }, `scheduled ${what} failed`),
    );
    if (t !== undefined) timers.push(t);
  };

  const ready = (async () => {
    for (;;) {
      try {
        await analyzer.start();
        // Serving only once in the ring: a replica outside it would learn tenants the others own.
        await ring?.membership.join();
        ring?.handover.joined();
        break;
      } catch (e) {
        if (closed) return;
        o.logger.warn({ err: errorMessage(e) }, "analyzer store not ready; retrying");
        await new Promise((r) => setTimeout(r, readyRetryMs).unref());
      }
    }
    if (closed) return;
    host.setServing(analyzerServiceName, true);
    every(o.retrainIntervalMs, "retrain", async () => {
      const r = await analyzer.retrainNextAction();
      o.logger.info(
        { promoted: r.promoted, version: r.version, explanation: r.explanation },
        "scheduled retrain",
      );
    });
    every(o.cleanupIntervalMs, "clean-up", () => analyzer.cleanup());
    // In memory, the learned state is the store's already: saving it would only copy it.
    if (o.store !== "memory")
      every(o.learningSaveIntervalMs, "learned-state save", () => analyzer.saveLearning(savable));
    o.logger.info(
      {
        repository,
        scorer: scorer.description,
        store: o.store === "memory" ? "memory" : "redis",
        shards: o.storeShards,
        ring: ring?.router.ring.members ?? "off",
      },
      "analyzer ready",
    );
  })();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      ring?.handover.close();
      unwatch();
      for (const t of timers) clearInterval(t);
      // Saved before leaving the ring: the replicas that take its tenants over read them once it has left.
      if (o.store !== "memory")
        await analyzer
          .saveLearning(savable)
          .catch((e: unknown) =>
            o.logger.error({ err: errorMessage(e) }, "learned state not saved at shutdown: the store failed"),
          );
      await ring?.membership.leave();
      ring?.router.close();
      await scorer.close();
      await analyzerStore.close();
      if (ownRepository) await rm(repository, { recursive: true, force: true });
    })();
    return closing;
  };
  host.onShutdown(close);
  return {
    analyzer,
    options: o,
    modelRepositoryPath: repository,
    ringMembers: () => ring?.router.ring.members ?? [],
    ownsTenant: (tenant) => ring?.router.ring.owns(tenant) ?? true,
    ready,
    close,
  };
}

/** With an advertised address and Redis, the tenant ring this replica shares with the others; otherwise none. */
function joinRing(
  o: AnalyzerOptions,
  redis: RedisClient | undefined,
  metrics: AnalyzerMetrics,
  analyzer: Analyzer,
): { router: RingRouter; membership: RingMembership; handover: RingHandover } | undefined {
  if (o.advertiseAddress === undefined || redis === undefined || o.store === "memory") return undefined;
  const ring = new TenantRing(o.advertiseAddress);
  const router = new RingRouter(ring, {
    timeoutMs: o.forwardTimeoutMs,
    maxRejections: o.maxRejectionsReported,
    logger: o.logger,
    tlsServerName: o.ringTlsName,
    onForward: metrics.forwarded,
  });
  const key = `${o.store.keyPrefix ?? defaultKeyPrefix}ring`;
  // Long enough for every other replica to see a change at its next beat and save what it lost.
  const handover = new RingHandover(analyzer, ring, handoverSettleBeats * o.ringHeartbeatMs, o.logger);
  const membership = new RingMembership(
    redis,
    key,
    ring,
    { heartbeatMs: o.ringHeartbeatMs, ttlMs: o.ringTtlMs },
    {
      onChange: (members) => {
        metrics.ringMembers.set(members.length);
        o.logger.info({ members }, "analyzer ring changed");
        handover.changed(members);
      },
      onError: (err) => o.logger.warn({ err }, "analyzer ring heartbeat failed; keeping the last view"),
    },
  );
  return { router, membership, handover };
}

/** Heartbeats a replica gaining tenants waits before it reads their learned state (RingHandover). */
const handoverSettleBeats = 3;
