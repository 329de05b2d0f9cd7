import { RedisCacheStore } from "@prescient/cache";
import { LuaCommand } from "@prescient/kit";
import { startRedisServer } from "@prescient/kit/testing";
import { positiveFromEnv } from "./bench-env.js";
import { ctr, keySet } from "./cache-expiries.js";
import { CpuProbe, redisServerPid } from "./proc-cpu.js";
import { type BenchReport, newReport, result } from "./report.js";

/**
 * The Redis cache store's index sweep (RedisCacheStore.sweep, by its timer on
 * one cache replica when enough is left to it: bench cache-churn): it walks every member of every index (the
 * keys set, the model zsets, the tags' sets) and prunes those whose entries
 * Redis has expired. The store runs with its near cache, as deployed, so its
 * connection tracks keys. Three ways over the same store and entries, in
 * one run:
 *
 * - shipped: each index scanned inside sweep-index.lua, a chunk per call,
 *   untracked (CLIENT CACHING no); members never travel to Node;
 * - as at b521b65: Node scans (SSCAN/ZSCAN) and sends each chunk's members
 *   to prune-index.lua, which checks them (500 declared keys), untracked;
 * - as at c68f430: the same, tracked, where a script's cost per read grows
 *   with the keys it declares (redis-invalidation.ts).
 *
 * BENCH_SWEEP_ENTRIES CTR results (default 50,000), each in the keys set and
 * its model's zset; rounds in order, then in reverse. Before each sweep 50
 * entries are unlinked, as if Redis had expired them, and the sweep must
 * prune exactly their 100 members. Costed in seconds per
 * sweep and CPU µs per entry (this process and redis-server, from /proc).
 */
const ENTRIES = positiveFromEnv("BENCH_SWEEP_ENTRIES", 50_000);
/** Entries removed before each sweep, which it must find: 0.1% of the default. */
const GONE = 50;
if (ENTRIES < 1_000)
  throw new Error("BENCH_SWEEP_ENTRIES must be at least 1,000: each of six sweeps removes 50");

const log = (line: string): void => {
  process.stdout.write(`cache-sweep: ${line}\n`);
};

/** The prune script the earlier sweeps sent each chunk to, as shipped (invalidation still uses it). */
const pruneIndex = new LuaCommand(
  "benchCachePruneIndex",
  new URL("../../services/cache/src/store/prune-index.lua", import.meta.url),
);

/** The sweep as it was: Node scans each index and sends every chunk of members to prune-index.lua. */
async function sweepFromNode(store: RedisCacheStore, untracked: boolean): Promise<number> {
  const { client, layout } = store;
  const chunk = store.options.chunkSize;
  const near = store.near;
  if (near === undefined) throw new Error("the store has no near cache");
  pruneIndex.define(client);
  async function* scan(command: "sscan" | "zscan", key: string): AsyncGenerator<string[]> {
    let cursor = "0";
    do {
      const [next, flat] = await client[command](key, cursor, "COUNT", chunk);
      cursor = next;
      const members = command === "zscan" ? flat.filter((_, i) => i % 2 === 0) : flat;
      if (members.length > 0) yield members;
    } while (cursor !== "0");
  }
  const prune = async (
    tenant: string,
    index: string,
    kind: "s" | "z",
    members: string[],
  ): Promise<number> => {
    const keys = [index, ...members.map((k) => layout.entry(k, tenant))];
    const args = [kind, ...members];
    return untracked
      ? near.untracked<number>(client, (p) => {
          pruneIndex.queue(p, keys, args);
        })
      : pruneIndex.run<number>(client, keys, args);
  };
  let pruned = 0;
  for await (const tenants of scan("sscan", layout.tenants()))
    for (const tenant of tenants) {
      for await (const members of scan("sscan", layout.keys(tenant)))
        pruned += await prune(tenant, layout.keys(tenant), "s", members);
      for await (const names of scan("sscan", layout.indexes(tenant)))
        for (const name of names) {
          const z = layout.isModelIndex(name);
          for await (const members of scan(z ? "zscan" : "sscan", name))
            pruned += await prune(tenant, name, z ? "z" : "s", members);
        }
    }
  return pruned;
}

/** Waits for the store's near cache to arm (its connection tracking), as a deployed store's is. */
export async function nearCacheArmed(store: RedisCacheStore): Promise<void> {
  await store.ready();
  const end = Date.now() + 5_000;
  while (store.near?.armed !== true) {
    if (Date.now() > end)
      throw new Error("the store's near cache never armed: its connection does not track");
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Figures {
  seconds: number;
  cpuUsPerEntry: number;
  redisUsPerEntry: number;
}

export async function run(): Promise<BenchReport> {
  const redis = await startRedisServer();
  const store = new RedisCacheStore({ url: redis.url, keyPrefix: "bench:sweep:", sweepIntervalMs: 0 });
  try {
    await nearCacheArmed(store);
    const { writes } = keySet("ctr", "ctr_prediction", ctr, ENTRIES);
    for (let i = 0; i < ENTRIES; i += 500) await store.putMany(writes.slice(i, i + 500));
    const pids = [process.pid, await redisServerPid(redis.url)];
    const ways: [string, () => Promise<number>][] = [
      ["as at c68f430 (Node scans, prune tracked)", () => sweepFromNode(store, false)],
      ["as at b521b65 (Node scans, prune untracked)", () => sweepFromNode(store, true)],
      ["shipped (scanned in Lua, untracked)", () => store.sweep()],
    ];
    const sums: Figures[] = ways.map(() => ({ seconds: 0, cpuUsPerEntry: 0, redisUsPerEntry: 0 }));
    const order = [...ways.keys(), ...[...ways.keys()].reverse()];
    for (const [run, w] of order.entries()) {
      // Each sweep has GONE entries to find, gone as if Redis had expired them: in the keys set and the model zset.
      const gone = writes.slice(run * GONE, (run + 1) * GONE);
      await store.client.unlink(...gone.map((e) => store.layout.entry(e.key)));
      const probe = await CpuProbe.start(pids);
      const started = performance.now();
      const pruned = await (ways[w] as [string, () => Promise<number>])[1]();
      const seconds = (performance.now() - started) / 1000;
      const cpu = await probe.stop();
      if (pruned !== 2 * GONE)
        throw new Error(`a sweep pruned ${pruned} members, not the ${2 * GONE} of gone entries`);
      const s = sums[w] as Figures;
      s.seconds += seconds / 2;
      s.cpuUsPerEntry += cpu.totalUs / ENTRIES / 2;
      s.redisUsPerEntry += (cpu.byPid.get(pids[1] as number) ?? 0) / ENTRIES / 2;
    }
    const say = (f: Figures) =>
      `${f.seconds.toFixed(2)} s, ${f.cpuUsPerEntry.toFixed(1)} CPU µs/entry (redis-server ${f.redisUsPerEntry.toFixed(1)})`;
    for (const [i, [label]] of ways.entries())
      log(`sweep of ${ENTRIES} entries, ${label}: ${say(sums[i] as Figures)}`);
    const after = sums[2] as Figures;
    const name = `index sweep of ${ENTRIES} CTR results (keys set and model zset), near cache on`;
    const results = [0, 1].flatMap((b) => {
      const before = sums[b] as Figures;
      const baseline = `the sweep ${(ways[b] as [string, unknown])[0]}, same run`;
      return [
        result({
          case: name,
          metric: "time per sweep",
          unit: "s",
          value: after.seconds,
          baseline,
          baseline_value: before.seconds,
          target_ratio: null,
          lowerIsBetter: true,
        }),
        result({
          case: name,
          metric: "CPU per entry (this process + redis-server)",
          unit: "µs",
          value: after.cpuUsPerEntry,
          baseline,
          baseline_value: before.cpuUsPerEntry,
          target_ratio: null,
          lowerIsBetter: true,
        }),
        result({
          case: name,
          metric: "redis-server CPU per entry",
          unit: "µs",
          value: after.redisUsPerEntry,
          baseline,
          baseline_value: before.redisUsPerEntry,
          target_ratio: null,
          lowerIsBetter: true,
        }),
      ];
    });
    return newReport("cache-sweep", results);
  } finally {
    await store.close();
    await redis.stop();
  }
}
