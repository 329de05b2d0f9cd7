import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Analyzer,
  emptyIngestResult,
  grpcQuerySink,
  type QueryEventInput,
  QueryReporter,
  type QueryReporterOptions,
} from "@prescient/analyzer";
import type { MissFeatures, MissHandler, MissKey, ObservedLookup } from "@prescient/cache";
import { analyzerV1, type commonV1, executorV1 } from "@prescient/contracts";
import { UnavailableError } from "@prescient/core";
import type { ExecutorCore } from "@prescient/executor";
import {
  callUnary,
  clientChannelOptions,
  featuresFromProto,
  keyToProto,
  outcomeToProto,
  peerCredentials,
  reasonToProto,
} from "@prescient/kit";
import { shippedModelsPath } from "@prescient/predictor";

/**
 * How services find each other: in one process (`prescient up`) they call
 * each other's cores directly; one per process (`prescient serve`), over gRPC
 * at the addresses their environment names.
 */
/** The cache's misses, handled by an executor in this process (set once it has started). */
export class InProcessMissHandler implements MissHandler {
  core: ExecutorCore | undefined;

  #executor(): ExecutorCore {
    if (this.core === undefined) throw new UnavailableError("the executor is still starting");
    return this.core;
  }

  async enqueue(key: MissKey, features: MissFeatures): Promise<{ taskId: string }> {
    const [r] = await this.#executor().enqueueMany([
      { parts: key, priority: undefined, reason: "miss", features: featuresFromProto(features, "features") },
    ]);
    return { taskId: r?.taskId ?? "" };
  }

  async compute(key: MissKey, features: MissFeatures): Promise<commonV1.Result> {
    // The cache stores what it gets back, so the executor need not write it too.
    return (await this.#executor().compute(key, featuresFromProto(features, "features"), false)).result;
  }
}

/** The cache's misses, handled by a remote executor. */
export class GrpcMissHandler implements MissHandler {
  readonly #client: executorV1.ExecutorServiceClient;

  constructor(
    address: string,
    readonly timeoutMs = 30_000,
  ) {
    this.#client = new executorV1.ExecutorServiceClient(address, peerCredentials(), clientChannelOptions());
  }

  async enqueue(key: MissKey, features: MissFeatures): Promise<{ taskId: string }> {
    const r = await callUnary(
      this.#client.enqueue.bind(this.#client),
      {
        task: {
          key: keyToProto(key),
          priority: 0,
          reason: reasonToProto("miss"),
          features: { ...features },
        },
      },
      { timeoutMs: this.timeoutMs },
    );
    return { taskId: r.taskId };
  }

  async compute(key: MissKey, features: MissFeatures): Promise<commonV1.Result> {
    const r = await callUnary(
      this.#client.compute.bind(this.#client),
      { key: keyToProto(key), features: { ...features } },
      { timeoutMs: this.timeoutMs },
    );
    if (r.result === undefined) throw new UnavailableError(`executor computed no result for ${key.key}`);
    return r.result;
  }

  close(): void {
    this.#client.close();
  }
}

/**
 * A writable model repository for this process: the analyzer publishes new
 * next-action versions into it and the predictor picks them up. It starts as
 * a copy of the shipped example models, so the checkout is never written to.
 */
export function runtimeModelRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), "prescient-models-"));
  cpSync(shippedModelsPath, dir, { recursive: true });
  return dir;
}

/** The cache's lookups as the analyzer's query events. */
export function queryEventOf(lookup: ObservedLookup): QueryEventInput {
  return {
    time: new Date(lookup.time),
    tenant: lookup.tenant,
    taskType: lookup.taskType,
    entityId: lookup.entityId,
    key: lookup.key,
    userId: lookup.userId,
    outcome: outcomeToProto(lookup.outcome),
    computeMs: lookup.computeMs,
    latencyMs: 0,
  };
}

/**
 * The cache's query log: lookups go, batched and asynchronously, to the
 * analyzer in this process, or to a remote one over gRPC. A slow or absent
 * analyzer costs lookups nothing: the reporter drops and counts.
 */
export function queryReporter(
  target: Promise<Analyzer> | string,
  options: Partial<QueryReporterOptions> = {},
): QueryReporter {
  if (typeof target === "string") {
    const client = new analyzerV1.AnalyzerServiceClient(target, peerCredentials(), clientChannelOptions());
    return new QueryReporter(grpcQuerySink(client), options);
  }
  return new QueryReporter(
    async (events) => (await target).recordQueries(events, emptyIngestResult()),
    options,
  );
}
