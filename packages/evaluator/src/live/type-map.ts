import { canonicalKey, InvalidArgumentError, TaskTypeRegistry } from "@prescient/core";
import type { TraceRecord, TraceSource } from "../trace/record.js";

/**
 * What makes a trace replayable against a mesh, and its simulation
 * comparable with the live run:
 *
 * - Task types. The mesh answers INVALID_ARGUMENT for a type its
 *   configuration does not declare, and traces name their own (`object` for
 *   a key-only CSV, `cdn_object`, `kv_get`, `block_read` for CacheLib, the
 *   workload mixes' `page_score`, ...). Types the configuration declares are
 *   kept; any other maps to a `--live-type from=to` target, else to the
 *   fallback: `--live-type default=<type>`, else the configuration's external
 *   type with the shortest TTL (ties by name; `campaign_analytics` in the
 *   shipped config). An external type is computed by its handler from the
 *   key alone; an onnx type computes from the entity features the replay
 *   makes up (synthetic-features.ts).
 * - Time. A mesh started with `--time-scale` equal to the replay's speed
 *   lives as fast as the trace is played (its TTLs, schedule periods,
 *   analyzer half-lives and query-log flush compressed alike), so the
 *   simulation runs with the configuration as it is. Against a mesh of
 *   another scale, the mesh keeps results `speed / scale` times longer in
 *   trace time, and the simulation stretches the TTLs and stale graces by
 *   that (scaleTaskTypes); its schedules and analyzer then do not match.
 */
export interface LiveTypeMap {
  /** The mesh's task type for a trace's task type. */
  map(taskType: string): string;
  /** The mappings used so far that changed a type. */
  used(): Record<string, string>;
  readonly fallback: string;
}

export function liveTypeMap(registry: TaskTypeRegistry, overrides: Record<string, string> = {}): LiveTypeMap {
  const check = (to: string, what: string): string => {
    if (!registry.has(to))
      throw new InvalidArgumentError(
        `${what} maps to ${JSON.stringify(to)}, which the mesh's task types do not declare; known: ${registry
          .list()
          .map((t) => t.name)
          .join(", ")}`,
      );
    return to;
  };
  for (const [from, to] of Object.entries(overrides)) check(to, `--live-type ${from}`);
  const external = registry
    .list()
    .filter((t) => t.kind === "external")
    .sort((a, b) => a.ttlMs - b.ttlMs || a.name.localeCompare(b.name));
  const fallback =
    overrides.default ??
    external[0]?.name ??
    registry.list()[0]?.name ??
    (() => {
      throw new InvalidArgumentError("the task-type configuration declares no task types");
    })();
  const used = new Map<string, string>();
  return {
    fallback,
    map(taskType) {
      const explicit = overrides[taskType];
      const to = explicit ?? (registry.has(taskType) ? taskType : fallback);
      if (to !== taskType) used.set(taskType, to);
      return to;
    },
    used: () => Object.fromEntries([...used].sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** The trace with its task types (and so its keys) as the mesh sees them. */
export class MappedTraceSource implements TraceSource {
  readonly #inner: TraceSource;
  readonly #map: (taskType: string) => string;

  constructor(inner: TraceSource, map: (taskType: string) => string) {
    this.#inner = inner;
    this.#map = map;
  }

  get name(): string {
    return this.#inner.name;
  }

  get format(): string {
    return this.#inner.format;
  }

  get stats(): TraceSource["stats"] {
    return this.#inner.stats;
  }

  /** Records the reader moved back into time order (the replay reports it). */
  get reordered(): number {
    return this.#inner.reordered ?? 0;
  }

  async *records(): AsyncIterable<TraceRecord> {
    const map = this.#map;
    for await (const r of this.#inner.records()) {
      if (r.kind === "read") {
        const taskType = map(r.taskType);
        yield taskType === r.taskType
          ? r
          : { ...r, taskType, key: canonicalKey(r.tenant, taskType, r.entity) };
      } else yield r.taskType === "" ? r : { ...r, taskType: map(r.taskType) };
    }
  }
}

/** The configuration with every TTL and stale grace lasting `speed` times longer: a slower mesh's TTLs in trace time. */
export function scaleTaskTypes(registry: TaskTypeRegistry, speed: number): TaskTypeRegistry {
  return new TaskTypeRegistry(
    registry.list().map((t) => ({ ...t, ttlMs: t.ttlMs * speed, staleGraceMs: t.staleGraceMs * speed })),
    registry.raw,
  );
}
