import type { cacheV1 } from "@prescient/contracts";
import { type TaskTypeRegistry, validateTenant } from "@prescient/core";
import { withField } from "@prescient/kit";
import type { CacheStore } from "../store/cache-store.js";
import { type CacheStats, type CounterValues, hitRate } from "./cache-stats.js";
import type { StoreFailures } from "./store-failures.js";

/**
 * The Stats answer: the lookup counters, optionally of one tenant and task
 * type, grouped both ways, with the store's size. A store that cannot count
 * reads as empty, so the counters (and the errors) still show while it is
 * down.
 */
export async function statsResponse(
  request: cacheV1.StatsRequest,
  types: TaskTypeRegistry,
  stats: CacheStats,
  store: CacheStore,
  failures: StoreFailures,
): Promise<cacheV1.StatsResponse> {
  const tenant =
    request.tenant === "" ? undefined : withField("tenant", () => validateTenant(request.tenant));
  const taskType =
    request.taskType === "" ? undefined : withField("task_type", () => types.get(request.taskType)).name;
  const snapshot = stats.snapshot(tenant, taskType);
  let entries = 0;
  let bytes = 0;
  try {
    const count = await store.count();
    entries = count.entries;
    bytes = count.bytes ?? 0;
  } catch (err) {
    // Stats should still report the counters (and the errors) while the store is down.
    failures.record("count", err);
  }
  const groups = (m: Map<string, CounterValues>): cacheV1.GroupStats[] =>
    [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, c]) => ({ name, counters: counters(c) }));
  return {
    total: counters(snapshot.total),
    byTaskType: groups(snapshot.byTaskType),
    byTenant: groups(snapshot.byTenant),
    entries: BigInt(entries),
    bytes: BigInt(bytes),
    store: store.name,
  };
}

function counters(c: CounterValues): cacheV1.Counters {
  return {
    hits: BigInt(c.hits),
    staleHits: BigInt(c.staleHits),
    misses: BigInt(c.misses),
    errors: BigInt(c.errors),
    hitRate: hitRate(c),
  };
}
