import { randomUUID } from "node:crypto";
import type { commonV1 } from "@prescient/contracts";
import {
  errorMessage,
  formatKey,
  InvalidArgumentError,
  type KeyParts,
  mapInSlices,
  type TaskTypeRegistry,
  TimeSlicer,
  UnavailableError,
} from "@prescient/core";
import { annotateActiveSpan, domainAttribute as attr, currentTraceparent } from "@prescient/tracing";
import type { EntityStore, Features } from "../entities/entity-store.js";
import { validateEntityRecord, validateFeatures } from "../entities/entity-store.js";
import type { EnqueueResult, TaskQueue, TaskReason } from "../queue/index.js";
import { type BatchDeps, processBatch } from "../worker/batch-processor.js";

/** A task to enqueue, already decoded from the wire. */
export interface TaskRequest {
  parts: KeyParts;
  /** 1..10; undefined takes the task type's default. */
  priority: number | undefined;
  reason: TaskReason;
  notBefore?: number;
  features: Features;
}

/**
 * What the executor does for its callers, shared by the gRPC service and the
 * in-process cache miss handler: enqueue (features upserted first, trace
 * context captured) and compute now (coalesced per key).
 */
export class ExecutorCore {
  readonly #queue: TaskQueue;
  readonly #entities: EntityStore;
  readonly #taskTypes: TaskTypeRegistry;
  readonly #deps: BatchDeps;
  readonly #computing = new Map<string, Promise<commonV1.Result>>();
  readonly #onEnqueued: () => void;

  constructor(queue: TaskQueue, deps: BatchDeps, onEnqueued: () => void = () => {}) {
    this.#queue = queue;
    this.#entities = deps.entities;
    this.#taskTypes = deps.taskTypes;
    this.#deps = deps;
    this.#onEnqueued = onEnqueued;
  }

  get queue(): TaskQueue {
    return this.#queue;
  }

  /** Whether features are stored for each entity: a model task for one without them cannot run. */
  async featuresStored(refs: ReadonlyArray<{ tenant: string; entityId: string }>): Promise<boolean[]> {
    return (await this.#entities.getMany(refs)).map((f) => f !== undefined);
  }

  async enqueueMany(requests: readonly TaskRequest[]): Promise<EnqueueResult[]> {
    const traceparent = currentTraceparent();
    // A full batch of many features is seconds of CPU in all: in slices, so other calls are served meanwhile.
    const slicer = new TimeSlicer();
    const withFeatures = requests.filter(
      (r) => r.parts.entityId !== undefined && Object.keys(r.features).length > 0,
    );
    const upserts = await mapInSlices(
      withFeatures,
      (r) =>
        validateEntityRecord({
          tenant: r.parts.tenant,
          entityId: r.parts.entityId as string,
          features: r.features,
        }),
      slicer,
    );
    const tasks = await mapInSlices(
      requests,
      (r) => {
        const taskType = this.#taskTypes.get(r.parts.taskType);
        const key = formatKey(r.parts);
        return {
          key,
          taskType: taskType.name,
          tenant: r.parts.tenant,
          priority: r.priority ?? taskType.defaultPriority,
          reason: r.reason,
          ...(r.notBefore !== undefined ? { notBefore: r.notBefore } : {}),
          ...(traceparent ? { traceparent } : {}),
          // Input-addressed keys have no entity record: their inputs ride with the task.
          ...(r.parts.digest !== undefined && Object.keys(r.features).length > 0
            ? { payload: JSON.stringify(validateFeatures(r.features, `key ${key}`)) }
            : {}),
        };
      },
      slicer,
    );
    // Features first: a worker may claim the task the moment it is queued.
    if (upserts.length > 0) await this.#entities.upsertMany(upserts);
    const results = await this.#queue.enqueueMany(tasks);
    this.#onEnqueued();
    annotateEnqueue(tasks, results);
    return results;
  }

  /**
   * Computes one key now, bypassing the queue (it is the highest priority
   * there is), coalesced with any computation of the same key under way.
   * `store` writes the result to the cache; the cache's own miss path stores
   * what it gets back itself, so it passes false.
   */
  compute(
    parts: KeyParts,
    features: Features,
    store: boolean,
  ): Promise<{ result: commonV1.Result; coalesced: boolean }> {
    const key = formatKey(parts);
    this.#taskTypes.get(parts.taskType);
    const running = this.#computing.get(key);
    if (running) return running.then((result) => ({ result, coalesced: true }));
    const work = this.#computeOnce(key, parts, features, store).finally(() => this.#computing.delete(key));
    this.#computing.set(key, work);
    return work.then((result) => ({ result, coalesced: false }));
  }

  async #computeOnce(
    key: string,
    parts: KeyParts,
    features: Features,
    store: boolean,
  ): Promise<commonV1.Result> {
    if (parts.entityId !== undefined && Object.keys(features).length > 0) {
      await this.#entities.upsertMany([
        validateEntityRecord({ tenant: parts.tenant, entityId: parts.entityId, features }),
      ]);
    } else validateFeatures(features, `key ${key}`);
    const deps: BatchDeps = store ? this.#deps : { ...this.#deps, sink: { putMany: async () => {} } };
    const id = `compute-${randomUUID()}`;
    const payload = Object.keys(features).length > 0 ? JSON.stringify(features) : undefined;
    const outcome = await processBatch([{ id, key, ...(payload ? { payload } : {}) }], deps).catch(
      (e: unknown) => {
        throw new UnavailableError(`computing ${key} failed: ${errorMessage(e)}`);
      },
    );
    const result = outcome.results.get(id);
    if (result) return result;
    const failure = outcome.failed[0];
    if (failure?.permanent) throw new InvalidArgumentError(`cannot compute ${key}: ${failure.error}`);
    throw new UnavailableError(`computing ${key} failed: ${failure?.error ?? "no result"}`);
  }
}

/**
 * The Enqueue span's domain attributes: how many, and the tenant, type,
 * reason and task id when the batch has one of each (a batch of mixed ones
 * leaves them out rather than picking one).
 */
function annotateEnqueue(
  tasks: readonly { tenant: string; taskType: string; reason: string }[],
  results: readonly EnqueueResult[],
): void {
  const first = tasks[0];
  const same = (pick: (t: (typeof tasks)[number]) => string): string | undefined =>
    first !== undefined && tasks.every((t) => pick(t) === pick(first)) ? pick(first) : undefined;
  annotateActiveSpan({
    [attr.batchSize]: tasks.length,
    [attr.tenant]: same((t) => t.tenant),
    [attr.taskType]: same((t) => t.taskType),
    [attr.reason]: same((t) => t.reason),
    [attr.taskId]: results.length === 1 ? results[0]?.taskId : undefined,
    "prescient.enqueue.deduplicated": results.filter((r) => r.deduplicated).length,
  });
}
