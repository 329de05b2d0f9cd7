import type { TypeCounters } from "./cache-metrics.js";

/** Lookup counters of one group. `hits` includes the stale ones. */
export interface CounterValues {
  hits: number;
  staleHits: number;
  misses: number;
  errors: number;
}

/** One (tenant, task type) pair's counters, with its type's metric children. */
export interface StatsCell extends CounterValues {
  readonly metrics: TypeCounters | undefined;
}

export interface StatsSnapshot {
  total: CounterValues;
  byTaskType: Map<string, CounterValues>;
  byTenant: Map<string, CounterValues>;
}

/** Tenants past the cap count here, so a flood of tenant names cannot grow memory without bound. */
export const otherTenants = "(other)";

/**
 * Lookup counters per (tenant, task type). Keeping the pair, not each
 * dimension apart, costs one cell per lookup and still answers both
 * groupings and any filter by tenant and type.
 */
export class CacheStats {
  readonly #tenants = new Map<string, Map<string, StatsCell>>();

  constructor(
    private readonly maxTenants: number,
    private readonly metricsFor: (taskType: string) => TypeCounters | undefined,
  ) {}

  cell(tenant: string, taskType: string): StatsCell {
    let types = this.#tenants.get(tenant);
    if (types === undefined) {
      if (this.#tenants.size >= this.maxTenants && tenant !== otherTenants)
        return this.cell(otherTenants, taskType);
      types = new Map();
      this.#tenants.set(tenant, types);
    }
    let cell = types.get(taskType);
    if (cell === undefined) {
      cell = { hits: 0, staleHits: 0, misses: 0, errors: 0, metrics: this.metricsFor(taskType) };
      types.set(taskType, cell);
    }
    return cell;
  }

  /** Sums the cells that pass the filters (empty filter: everything). */
  snapshot(tenantFilter: string | undefined, taskTypeFilter: string | undefined): StatsSnapshot {
    const total = zero();
    const byTaskType = new Map<string, CounterValues>();
    const byTenant = new Map<string, CounterValues>();
    for (const [tenant, types] of this.#tenants) {
      if (tenantFilter !== undefined && tenant !== tenantFilter) continue;
      for (const [taskType, cell] of types) {
        if (taskTypeFilter !== undefined && taskType !== taskTypeFilter) continue;
        add(total, cell);
        add(group(byTaskType, taskType), cell);
        add(group(byTenant, tenant), cell);
      }
    }
    return { total, byTaskType, byTenant };
  }
}

/** Hits (stale included) over lookups; 0 when there were none. */
export function hitRate(c: CounterValues): number {
  const lookups = c.hits + c.misses;
  return lookups === 0 ? 0 : c.hits / lookups;
}

function zero(): CounterValues {
  return { hits: 0, staleHits: 0, misses: 0, errors: 0 };
}

function group(map: Map<string, CounterValues>, name: string): CounterValues {
  let values = map.get(name);
  if (values === undefined) {
    values = zero();
    map.set(name, values);
  }
  return values;
}

function add(into: CounterValues, from: CounterValues): void {
  into.hits += from.hits;
  into.staleHits += from.staleHits;
  into.misses += from.misses;
  into.errors += from.errors;
}
