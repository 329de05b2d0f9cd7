import type { EntityRef, PrecomputerDeps } from "./precomputer-deps.js";
import type { PlannedTask } from "./types.js";

/**
 * Which planned tasks could only fail. An onnx task runs on the features the
 * executor stored for its entity; without them it fails on every attempt and
 * is dead-lettered ("no features stored for this entity"). Its features can
 * come with the call that plans it (an event's features ride on the first
 * task of its entity, and a fresh-skipped task's are upserted on their own)
 * or be stored already; the executor answers the second (FeaturesStored,
 * in process or over gRPC). External task types build their own inputs, so
 * they always go.
 *
 * Every planner that decides work on its own asks here: triggers (their
 * fan-out, related and predicted tasks), readahead, top-N, launch warming
 * and refresh-ahead. Warm and Refresh do not: an operator named that work.
 */
export class FeatureGate {
  constructor(private readonly deps: Pick<PrecomputerDeps, "taskTypes" | "featuresStored">) {}

  /**
   * The onnx tasks of `tasks` whose entity has no features: none ride on a
   * task of `tasks` or in `carried`, and the executor holds none. Each
   * entity is asked once, all in one call. Empty when nothing needs asking,
   * and when the executor cannot tell (no port: an executor too old to
   * answer, which plans every task, as before). Rejects when the port fails:
   * the caller decides what a failure costs.
   */
  async lacking(
    tasks: readonly PlannedTask[],
    carried: readonly EntityRef[] = [],
  ): Promise<Set<PlannedTask>> {
    const lacking = new Set<PlannedTask>();
    const stored = this.deps.featuresStored;
    if (stored === undefined) return lacking;
    const types = this.deps.taskTypes;
    const withFeatures = new EntityMap<true>();
    for (const c of carried) withFeatures.set(c, true);
    for (const t of tasks) if (t.features !== undefined) withFeatures.set(t, true);
    const asked = new EntityMap<number>();
    const refs: EntityRef[] = [];
    const needy: Array<{ task: PlannedTask; at: number }> = [];
    for (const t of tasks) {
      if (!types.has(t.taskType) || types.get(t.taskType).kind !== "onnx") continue;
      if (withFeatures.get(t) !== undefined) continue;
      let at = asked.get(t);
      if (at === undefined) {
        at = refs.length;
        asked.set(t, at);
        refs.push({ tenant: t.tenant, entityId: t.entityId });
      }
      needy.push({ task: t, at });
    }
    if (refs.length === 0) return lacking;
    const known = await stored(refs);
    for (const { task, at } of needy) if (known[at] !== true) lacking.add(task);
    return lacking;
  }
}

/**
 * Values by entity, a map per tenant: a joined tenant-and-id string per task
 * (hashed afresh each time) cost more than the rest of the check.
 */
class EntityMap<V> {
  readonly #byTenant = new Map<string, Map<string, V>>();

  get(e: EntityRef): V | undefined {
    return this.#byTenant.get(e.tenant)?.get(e.entityId);
  }

  set(e: EntityRef, value: V): void {
    let ids = this.#byTenant.get(e.tenant);
    if (ids === undefined) {
      ids = new Map();
      this.#byTenant.set(e.tenant, ids);
    }
    ids.set(e.entityId, value);
  }
}
