import { ExpiryIndex, parseKey, type TaskType, TaskTypeRegistry } from "@prescient/core";
import type {
  EntityRef,
  FreshnessSource,
  LoadProbe,
  NearExpiry,
  PlannedTask,
  TaskSink,
  Timers,
} from "@prescient/precomputer";
import type { ComputeReason } from "../../sim/metrics.js";
import type { PolicyContext } from "../../sim/policy.js";

/**
 * The ports the precomputer runs on in a replay, backed by the simulation:
 * the executor's queue (a task computes when the queue would deliver it,
 * unless the same key is already computing, as the executor coalesces), the
 * cache's freshness and XFetch flags, the live load, and timers on the
 * virtual clock. They hold no policy: what to compute is the precomputer's.
 */
export function simulatedExecutor(ctx: PolicyContext): TaskSink {
  let next = 0;
  const run = (t: PlannedTask): boolean =>
    // A result already stored is recomputed, as the executor would: whether it was worth it is the precomputer's call.
    ctx.precompute(t.key, t.taskType, computeReason(t.reason), Number.POSITIVE_INFINITY, t.probability);
  return {
    async enqueueMany(tasks) {
      return tasks.map((t) => {
        const taskId = String(++next);
        if (t.notBefore !== undefined && t.notBefore > ctx.now()) {
          ctx.at(t.notBefore, () => {
            run(t);
          });
          return { taskId, deduplicated: false };
        }
        return { taskId, deduplicated: !run(t) };
      });
    },
  };
}

const computeReason = (r: PlannedTask["reason"]): ComputeReason => (r === "manual" ? "trigger" : r);

/** The cache as the precomputer reads it: freshness, the keys its XFetch flagged on hits, and its expiry index. */
export class SimulatedCache implements FreshnessSource {
  readonly #ctx: PolicyContext;
  readonly #flagged = new Set<string>();
  readonly #expiries = new ExpiryIndex();

  constructor(ctx: PolicyContext) {
    this.#ctx = ctx;
  }

  flag(key: string): void {
    this.#flagged.add(key);
  }

  stored(key: string, taskType: string, expiresAt: number): void {
    const parts = parseKey(key);
    this.#expiries.stored({
      key,
      tenant: parts.tenant,
      taskType,
      entityId: parts.entityId ?? `#${parts.digest ?? ""}`,
      expiresAt,
    });
  }

  async nearExpiry(
    now: number,
    horizonOf: (taskType: string) => number,
    filter: { taskType?: string | undefined; tenant?: string | undefined },
  ): Promise<NearExpiry[]> {
    return this.#expiries.nearExpiry(now, horizonOf, filter);
  }

  async expiries(keys: readonly string[]): Promise<(number | undefined)[]> {
    return keys.map((k) => this.#ctx.cache.freshUntil(k));
  }

  async takeRefreshDue(limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const key of this.#flagged) {
      if (out.length >= limit) break;
      out.push(key);
      this.#flagged.delete(key);
    }
    return out;
  }
}

/**
 * Which entities the executor would hold features for, as a live replay
 * delivers them (live-replay.ts): an entity's features reach the mesh with
 * the first miss of a model type the cache enqueues for it, or with a
 * trigger about it (the live replay sends them with every trigger; here the
 * entity is held from its first trigger on, before the trigger is planned,
 * where the event's own features would let it through). The precomputer asks
 * (`featuresStored`) before planning a model type's task (triggers and their
 * related and predicted tasks, readahead, top-N, launch warming,
 * refresh-ahead), and skips entities without features, which it could not
 * compute live; without this port the replay planned them all. Bounded by
 * the trace's entities.
 */
export class SimulatedFeatures {
  readonly #held = new Set<string>();
  readonly #usesFeatures: (taskType: string) => boolean;

  constructor(usesFeatures: (taskType: string) => boolean) {
    this.#usesFeatures = usesFeatures;
  }

  missed(tenant: string, taskType: string, entity: string): void {
    if (entity !== "" && this.#usesFeatures(taskType)) this.#held.add(`${tenant}\u0000${entity}`);
  }

  triggered(tenant: string, entity: string): void {
    if (entity !== "") this.#held.add(`${tenant}\u0000${entity}`);
  }

  readonly stored = async (entities: readonly EntityRef[]): Promise<boolean[]> =>
    entities.map((e) => this.#held.has(`${e.tenant}\u0000${e.entityId}`));
}

/** Live lookups per second, measured over the trace's reads as the cache's counters would. */
export class SimulatedLoad implements LoadProbe {
  #window = 0;
  #count = 0;
  #qps = 0;

  read(time: number): void {
    if (time - this.#window >= 1000) {
      this.#qps = (this.#count * 1000) / Math.max(1000, time - this.#window);
      this.#window = time;
      this.#count = 0;
    }
    this.#count++;
  }

  async sample() {
    return { liveQps: this.#qps };
  }
}

export function virtualTimers(ctx: PolicyContext): Timers {
  return {
    after(ms, fn) {
      let cancelled = false;
      ctx.at(ctx.now() + Math.max(1, ms), () => (cancelled ? undefined : fn()));
      return {
        cancel: () => {
          cancelled = true;
        },
      };
    },
  };
}

/**
 * The task types the replay knows, with its TTLs (the --ttl overrides
 * included): the configured ones, and the trace's own as external types.
 */
export function simulatedTypes(
  names: Iterable<string>,
  configured: TaskTypeRegistry,
  ttlMs: (taskType: string) => number,
): TaskTypeRegistry {
  const types: TaskType[] = [];
  for (const name of new Set(names)) {
    const base: TaskType = configured.has(name)
      ? configured.get(name)
      : {
          name,
          kind: "external",
          model: name,
          modelVersion: "",
          inputs: [],
          outputs: [],
          ttlMs: 0,
          staleGraceMs: 0,
          xfetchBeta: 1,
          defaultPriority: 5,
          description: "",
        };
    types.push({ ...base, ttlMs: ttlMs(name) });
  }
  return new TaskTypeRegistry(types);
}
