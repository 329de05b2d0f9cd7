import { commonV1 } from "@prescient/contracts";
import { compileKeyPattern } from "@prescient/core";
import { type LuaArg, LuaCommand } from "@prescient/kit";
import type { ChainableCommander } from "ioredis";
import type { CachedResult, InvalidationSelector } from "./cache-store.js";
import { numericModelVersion } from "./cache-store.js";
import { groupByTenant, type RedisClient, type RedisLayout, scanSet } from "./redis-layout.js";

/**
 * Invalidation and index hygiene for the Redis store. Nothing here blocks
 * Redis: candidates come from the tenant's index sets in SSCAN/ZRANGE chunks,
 * are deleted with UNLINK (freed in the background), and each chunk is one
 * MULTI within one hash-tagged slot. No KEYS, no SMEMBERS of big sets.
 *
 * Where the store's connection tracks keys for its near cache, the reads
 * here that keep nothing (the sweep's script, the prune script, the MGET
 * that verifies candidates) go untracked. Tracked, they would fill Redis's
 * tracking table with every entry the sweeper looks at; and on Redis 7.0 a
 * tracked script's cost per read grows with the keys it declares (measured:
 * 9, 18 and 45 µs per EXISTS at 200, 400 and 800 declared keys, against
 * under 1.3 untracked), so a tracked prune of 500 keys cost quadratically.
 * The sweep scans each index inside its script (sweep-index.lua), so the
 * members never travel to Node and back. A sweep of 50,000 entries: 9.35 s
 * as it ran at c68f430 (Node scans, prune tracked), 0.75 s with the prune
 * untracked, 0.37 s scanned in Lua (bench cache-sweep).
 */

/**
 * Sends the one command `read` queues without client tracking
 * (RedisNearCache.untracked) and answers its reply; absent where the
 * connection does not track.
 */
export type UntrackedRead = <T>(read: (pipeline: ChainableCommander) => void) => Promise<T>;

/** Prunes an index of members whose entries are gone (prune-index.lua); KEYS: the index, then the entries. */
const pruneIndex = new LuaCommand("prescientCachePruneIndex", new URL("./prune-index.lua", import.meta.url));
/** One sweeper step over one index (sweep-index.lua): scans a chunk and prunes it; KEYS: the index. */
const sweepIndexScript = new LuaCommand(
  "prescientCacheSweepIndex",
  new URL("./sweep-index.lua", import.meta.url),
  {
    numberOfKeys: 1,
  },
);
/** Takes gone entries out of their tenant's indexes (prune-gone.lua); KEYS: keys set, registry. */
const pruneGoneScript = new LuaCommand(
  "prescientCachePruneGone",
  new URL("./prune-gone.lua", import.meta.url),
  {
    numberOfKeys: 2,
  },
);
/** Forgets an index name once its index has expired away (forget-index.lua). */
const forgetIndex = new LuaCommand(
  "prescientCacheForgetIndex",
  new URL("./forget-index.lua", import.meta.url),
  {
    numberOfKeys: 2,
  },
);

interface Drain {
  client: RedisClient;
  layout: RedisLayout;
  tenant: string;
  chunk: number;
  /** Told of the keys each chunk removed (the store's budget ledger). */
  removed?: ((keys: string[]) => Promise<void>) | undefined;
  untracked?: UntrackedRead | undefined;
}

export async function invalidateRedis(
  client: RedisClient,
  layout: RedisLayout,
  selector: InvalidationSelector,
  chunk: number,
  removed?: (keys: string[]) => Promise<void>,
  untracked?: UntrackedRead,
): Promise<number> {
  switch (selector.kind) {
    case "pattern": {
      const { tenant, redisGlob, regex } = selector.pattern;
      const d = { client, layout, tenant, chunk, removed, untracked };
      return drainSet(d, layout.keys(tenant), { match: redisGlob, filter: (k) => regex.test(k) });
    }
    case "tag": {
      const d = { client, layout, tenant: selector.tenant, chunk, removed, untracked };
      return drainSet(d, layout.tag(selector.tenant, selector.tag), {
        verify: (r) => r.tags.includes(selector.tag),
      });
    }
    case "task_type":
      // A scan of the tenant's keys: a set per type cost every write a member for an invalidation that is rare.
      return sumOverTenants(client, layout, selector.tenant, chunk, (d) => {
        const { redisGlob, regex } = compileKeyPattern(d.tenant, `${selector.taskType}/*`);
        return drainSet({ ...d, removed, untracked }, layout.keys(d.tenant), {
          match: redisGlob,
          filter: (k) => regex.test(k),
        });
      });
    case "model_older_than":
      return sumOverTenants(client, layout, selector.tenant, chunk, (d) =>
        drainModel({ ...d, removed, untracked }, selector.modelName, selector.olderThan),
      );
  }
}

async function sumOverTenants(
  client: RedisClient,
  layout: RedisLayout,
  tenant: string | undefined,
  chunk: number,
  each: (d: Drain) => Promise<number>,
): Promise<number> {
  if (tenant !== undefined) return each({ client, layout, tenant, chunk });
  let removed = 0;
  for await (const tenants of scanSet(client, layout.tenants(), chunk))
    for (const t of tenants) removed += await each({ client, layout, tenant: t, chunk });
  return removed;
}

interface DrainRules {
  /** SSCAN MATCH glob: a superset of what `filter` keeps. */
  match?: string;
  filter?: (key: string) => boolean;
  /** Reads each candidate and keeps it only if this holds (for indexes that can go stale by content). */
  verify?: (result: CachedResult) => boolean;
}

async function drainSet(d: Drain, index: string, rules: DrainRules): Promise<number> {
  const { client, layout, tenant } = d;
  const keysIndex = layout.keys(tenant);
  let removed = 0;
  for await (const members of scanSet(client, index, d.chunk, rules.match)) {
    const candidates = rules.filter ? members.filter(rules.filter) : members;
    if (candidates.length === 0) continue;
    const doomed = rules.verify ? await verified(d, candidates, rules.verify) : candidates;
    if (doomed.length > 0)
      removed += await unlinkAll(d, doomed, index === keysIndex ? [index] : [index, keysIndex]);
    if (rules.verify && doomed.length < candidates.length) {
      const kept = new Set(doomed);
      await prune(
        d,
        index,
        "s",
        candidates.filter((k) => !kept.has(k)),
      );
    }
  }
  return removed;
}

/** Walks the model's zset by score below `olderThan`, chunk by chunk. */
async function drainModel(d: Drain, modelName: string, olderThan: number): Promise<number> {
  const { client, layout, tenant } = d;
  const index = layout.model(tenant, modelName);
  let removed = 0;
  // Survivors (entries moved to another model) stay in the zset below the
  // bound; skipping them by offset keeps the walk finite.
  let offset = 0;
  for (;;) {
    const candidates = await client.zrangebyscore(index, "-inf", `(${olderThan}`, "LIMIT", offset, d.chunk);
    if (candidates.length === 0) return removed;
    const doomed = await verified(d, candidates, (r) => {
      const version = numericModelVersion(r.modelVersion);
      return r.modelName === modelName && version !== undefined && version < olderThan;
    });
    if (doomed.length > 0) removed += await unlinkAll(d, doomed, [index, layout.keys(tenant)]);
    let pruned = 0;
    if (doomed.length < candidates.length) {
      const kept = new Set(doomed);
      pruned = await prune(
        d,
        index,
        "z",
        candidates.filter((k) => !kept.has(k)),
      );
    }
    offset += candidates.length - doomed.length - pruned;
  }
}

async function verified(d: Drain, keys: string[], keep: (r: CachedResult) => boolean): Promise<string[]> {
  const physical = keys.map((k) => d.layout.entry(k, d.tenant));
  const values: (Buffer | null)[] =
    d.untracked === undefined
      ? await d.client.mgetBuffer(physical)
      : await d.untracked((p) => p.mgetBuffer(physical));
  return keys.filter((_, i) => {
    const bytes = values[i];
    return bytes !== null && bytes !== undefined && keep(commonV1.Result.decode(bytes));
  });
}

/** UNLINKs entries and drops them from the given indexes in one MULTI; answers how many existed. */
async function unlinkAll(d: Drain, keys: string[], indexes: string[]): Promise<number> {
  const multi = d.client.multi().unlink(...keys.map((k) => d.layout.entry(k, d.tenant)));
  for (const index of indexes) {
    if (d.layout.isModelIndex(index)) multi.zrem(index, ...keys);
    else multi.srem(index, ...keys);
  }
  const replies = await multi.exec();
  const failed = replies?.find(([err]) => err !== null);
  if (failed) throw failed[0];
  await d.removed?.(keys);
  const unlinked = replies?.[0]?.[1];
  return typeof unlinked === "number" ? unlinked : 0;
}

/** Runs a housekeeping script that keeps nothing in the process: untracked where the connection tracks. */
function runHousekeeping<T>(
  d: Pick<Drain, "client" | "untracked">,
  script: LuaCommand,
  keys: string[],
  args: LuaArg[],
): Promise<T> {
  if (d.untracked === undefined) return script.run<T>(d.client, keys, args);
  script.define(d.client);
  return d.untracked<T>((p) => {
    script.queue(p, keys, args);
  });
}

async function prune(d: Drain, index: string, kind: "s" | "z", members: string[]): Promise<number> {
  if (members.length === 0) return 0;
  const keys = [index, ...members.map((k) => d.layout.entry(k, d.tenant))];
  const n = await runHousekeeping(d, pruneIndex, keys, [kind, ...members]);
  return typeof n === "number" ? n : 0;
}

/**
 * An entry the ledger saw expire but Redis still holds with at most this
 * long to live is one whose PX Redis took a little after the ledger took
 * its expiry, or by another clock: left to the sweeper (prune-gone.lua).
 */
const expiringSoonMs = 5_000;

/**
 * Takes entries that left the budget's ledger (expired, evicted, deleted,
 * invalidated) out of their tenants' indexes, one script call per tenant,
 * where Redis no longer holds them: out of the keys set, and out of every
 * index the tenant's registry names while it names at most `maxIndexes`.
 * Answers members removed, and entries whose indexes were left to the
 * sweeper (the other indexes of tenants with more; entries about to expire).
 */
export async function pruneGone(
  client: RedisClient,
  layout: RedisLayout,
  keys: readonly string[],
  maxIndexes: number,
  untracked?: UntrackedRead,
): Promise<{ removed: number; unpruned: number }> {
  const unique = [...new Set(keys)];
  const replies = await Promise.all(
    [...groupByTenant(layout, unique)].map(([tenant, positions]) =>
      runHousekeeping<[number, number]>(
        { client, untracked },
        pruneGoneScript,
        [layout.keys(tenant), layout.indexes(tenant)],
        [
          maxIndexes,
          layout.entryPrefix(tenant),
          Buffer.byteLength(tenant),
          expiringSoonMs,
          ...positions.map((i) => unique[i] as string),
        ],
      ),
    ),
  );
  let removed = 0;
  let unpruned = 0;
  for (const [r, u] of replies) {
    removed += r;
    unpruned += u;
  }
  return { removed, unpruned };
}

/**
 * Prunes members whose entries Redis has expired from every index of every
 * tenant, and forgets indexes that expired away. Answers members pruned.
 */
export async function sweepRedis(
  client: RedisClient,
  layout: RedisLayout,
  chunk: number,
  untracked?: UntrackedRead,
): Promise<number> {
  let pruned = 0;
  for await (const tenants of scanSet(client, layout.tenants(), chunk)) {
    for (const tenant of tenants) {
      const d = { client, layout, tenant, chunk, untracked };
      const registry = layout.indexes(tenant);
      pruned += await sweepIndex(d, layout.keys(tenant), "s");
      for await (const names of scanSet(client, registry, chunk)) {
        for (const name of names) {
          pruned += await sweepIndex(d, name, layout.isModelIndex(name) ? "z" : "s");
          await forgetIndex.run(client, [registry, name], [name]);
        }
      }
    }
  }
  return pruned;
}

/**
 * Walks one index to the end of its scan with sweep-index.lua, a chunk per
 * call, pruning members whose entries are gone; answers how many.
 */
async function sweepIndex(d: Drain, index: string, kind: "s" | "z"): Promise<number> {
  const prefix = d.layout.entryPrefix(d.tenant);
  const tenantBytes = Buffer.byteLength(d.tenant);
  let cursor = "0";
  let removed = 0;
  do {
    const [next, n] = await runHousekeeping<[string, number]>(
      d,
      sweepIndexScript,
      [index],
      [kind, cursor, d.chunk, prefix, tenantBytes],
    );
    cursor = next;
    removed += n;
  } while (cursor !== "0");
  return removed;
}
