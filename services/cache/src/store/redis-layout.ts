import type { RedisClient } from "@prescient/kit";

/** The kit's client type: a node or a Cluster. */
export type { RedisClient };

/**
 * Key names of the Redis store. Every key of a tenant carries the hash tag
 * `{tenant}`, so that all of one tenant's entries and index sets live in one
 * Redis Cluster slot and multi-key commands (MGET, MULTI, UNLINK) work there.
 * Entry keys continue with '/', index keys with ':', so the two never meet.
 *
 * - `{p}{t}/type/entity`   the entry: protobuf-encoded Result, PX = expiry + grace
 * - `{p}{t}:keys`          set of the tenant's canonical keys (pattern and task type scans)
 * - `{p}{t}:tag:<tag>`     set of keys per tag
 * - `{p}{t}:model:<name>`  zset of keys per model, scored by numeric version
 * - `{p}{t}:indexes`       set of the index names above, for the sweeper
 * - `{p}tenants`           set of tenants, for invalidation across tenants
 * - `{p}{:budget}:...`     the entry and byte budget's ledger (redis-budget.ts),
 *                          with its count of entries gone since the last sweep;
 *                          ':' never occurs in a tenant, so the tag is its own
 * - `{p}{:sweep}:lease`    the replica whose timer swept last, while its lease lasts
 *
 * Index members can outlive their entries (Redis expires entries on its
 * own); readers verify, the store prunes them as the budget's ledger sees
 * entries go (prune-gone.lua), and the sweeper the rest. Earlier versions also kept a
 * set per task type (`{p}{t}:type:<type>`); invalidating a type now scans
 * the keys set, and such a set left behind is pruned by the sweeper, from the
 * registry, until it expires with its longest-lived member.
 */
export class RedisLayout {
  constructor(readonly prefix: string) {}

  tenantOf(key: string): string {
    return key.slice(0, key.indexOf("/"));
  }

  /** The task type of a canonical key `tenant/type/subject`. */
  taskTypeOf(key: string, tenant: string = this.tenantOf(key)): string {
    const start = tenant.length + 1;
    return key.slice(start, key.indexOf("/", start));
  }

  /** The physical key of a canonical key `tenant/type/subject`. */
  entry(key: string, tenant: string = this.tenantOf(key)): string {
    return `${this.entryPrefix(tenant)}${key.slice(tenant.length)}`;
  }

  /** What a tenant's physical keys start with: an entry is this, then its canonical key past the tenant. */
  entryPrefix(tenant: string): string {
    return `${this.prefix}{${tenant}}`;
  }

  keys(tenant: string): string {
    return `${this.prefix}{${tenant}}:keys`;
  }

  tag(tenant: string, tag: string): string {
    return `${this.prefix}{${tenant}}:tag:${tag}`;
  }

  model(tenant: string, modelName: string): string {
    return `${this.prefix}{${tenant}}:model:${modelName}`;
  }

  isModelIndex(name: string): boolean {
    return name.includes("}:model:");
  }

  indexes(tenant: string): string {
    return `${this.prefix}{${tenant}}:indexes`;
  }

  tenants(): string {
    return `${this.prefix}tenants`;
  }

  budgetExpiry(): string {
    return `${this.prefix}{:budget}:expiry`;
  }

  budgetBytes(): string {
    return `${this.prefix}{:budget}:bytes`;
  }

  budgetTotal(): string {
    return `${this.prefix}{:budget}:total`;
  }

  budgetGone(): string {
    return `${this.prefix}{:budget}:gone`;
  }

  sweepLease(): string {
    return `${this.prefix}{:sweep}:lease`;
  }
}

/** Groups positions of `keys` by tenant, keeping order within each tenant. */
export function groupByTenant(layout: RedisLayout, keys: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const tenant = layout.tenantOf(keys[i] as string);
    const group = groups.get(tenant);
    if (group === undefined) groups.set(tenant, [i]);
    else group.push(i);
  }
  return groups;
}

/** Iterates a set with SSCAN in bounded chunks: never blocks Redis the way SMEMBERS or KEYS can. */
export async function* scanSet(
  client: RedisClient,
  key: string,
  count: number,
  match?: string,
): AsyncGenerator<string[]> {
  let cursor = "0";
  do {
    const [next, members] =
      match === undefined
        ? await client.sscan(key, cursor, "COUNT", count)
        : await client.sscan(key, cursor, "MATCH", match, "COUNT", count);
    cursor = next;
    if (members.length > 0) yield members;
  } while (cursor !== "0");
}
