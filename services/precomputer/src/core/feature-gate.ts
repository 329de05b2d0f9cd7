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
    const withFeatures = new Set(carried.map(entityOf));
    for (const t of tasks) if (t.features !== undefined) withFeatures.add(entityOf(t));
    const asked = new Map<string, number>();
    const refs: EntityRef[] = [];
    const needy: Array<{ task: PlannedTask; entity: string }> = [];
    for (const t of tasks) {
      if (!types.has(t.taskType) || types.get(t.taskType).kind !== "onnx") continue;
      const entity = entityOf(t);
      if (withFeatures.has(entity)) continue;
      needy.push({ task: t, entity });
      if (!asked.has(entity)) {
        asked.set(entity, refs.length);
        refs.push({ tenant: t.tenant, entityId: t.entityId });
      }
    }
    if (refs.length === 0) return lacking;
    const known = await stored(refs);
    for (const { task, entity } of needy) if (known[asked.get(entity)!] !== true) lacking.add(task);
    return lacking;
  }
}

const entityOf = (e: EntityRef): string => `${e.tenant}\u0000${e.entityId}`;
