import { RedisCacheStore, type StoreWrite, sweepRedis } from "@prescient/cache";
import { formatKey } from "@prescient/core";
import { startRedisServer } from "@prescient/kit/testing";
import { positiveFromEnv } from "./bench-env.js";
import { CpuProbe, redisServerPid } from "./proc-cpu.js";
import { type BenchReport, newReport, result } from "./report.js";

/**
 * The Redis cache store's index sweep (RedisCacheStore.sweep, every 5
 * minutes on every cache replica by default): it walks every member of
 * every index (the keys set, the model zsets, the tags' sets) and prunes
 * those whose entries Redis has expired. The store runs with its near cache,
 * as deployed, so its connection tracks keys. Shipped: the sweep's prune
 * script goes untracked (CLIENT CACHING no). Baseline, same run, same store
 * and entries: the same sweep with its reads tracked, as it ran before
 * (sweepRedis without the untracked runner), where Redis 7.0 remembers the
 * script's 500 declared keys again for each EXISTS it makes.
 *
 * BENCH_SWEEP_ENTRIES CTR results (default 50,000), each in the keys set and
 * its model's zset; rounds alternate, baseline first, then in reverse.
 * Costed in seconds per sweep and CPU µs per entry (this process and
 * redis-server, from /proc).
 */
const ENTRIES = positiveFromEnv("BENCH_SWEEP_ENTRIES", 50_000);
const ROUNDS = 2;

const log = (line: string): void => {
  process.stdout.write(`cache-sweep: ${line}\n`);
};

function entry(i: number, now: number): StoreWrite {
  const ttlMs = 3_600_000;
  return {
    key: formatKey({ tenant: "bench", taskType: "ctr_prediction", entityId: `ad-${i}` }),
    tenant: "bench",
    taskType: "ctr_prediction",
    result: {
      value: {
        tensors: { tensors: [{ name: "probability", datatype: "FP32", shape: [1n, 1n], data: [0.5] }] },
        contentType: "",
      },
      modelName: "ctr_prediction",
      modelVersion: "1",
      computedAt: new Date(now),
      expiresAt: new Date(now + ttlMs),
      computeMs: 3,
      inputDigest: "",
      tags: [],
    },
    physicalExpiryMs: now + ttlMs,
  };
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
    await store.ready();
    const end = Date.now() + 5_000;
    while (store.near?.armed !== true) {
      if (Date.now() > end)
        throw new Error("the store's near cache never armed: its connection does not track");
      await new Promise((r) => setTimeout(r, 10));
    }
    const now = Date.now();
    for (let i = 0; i < ENTRIES; i += 500)
      await store.putMany(Array.from({ length: Math.min(500, ENTRIES - i) }, (_, j) => entry(i + j, now)));
    const pids = [process.pid, await redisServerPid(redis.url)];
    const tracked = () => sweepRedis(store.client, store.layout, store.options.chunkSize);
    const shipped = () => store.sweep();
    const ways = [tracked, shipped];
    const sums: Figures[] = ways.map(() => ({ seconds: 0, cpuUsPerEntry: 0, redisUsPerEntry: 0 }));
    for (let r = 0; r < ROUNDS; r++)
      for (const w of r % 2 === 0 ? [0, 1] : [1, 0]) {
        const probe = await CpuProbe.start(pids);
        const started = performance.now();
        const pruned = await (ways[w] as () => Promise<number>)();
        const seconds = (performance.now() - started) / 1000;
        const cpu = await probe.stop();
        if (pruned !== 0) throw new Error(`a sweep pruned ${pruned} members of live entries`);
        const s = sums[w] as Figures;
        s.seconds += seconds / ROUNDS;
        s.cpuUsPerEntry += cpu.totalUs / ENTRIES / ROUNDS;
        s.redisUsPerEntry += (cpu.byPid.get(pids[1] as number) ?? 0) / ENTRIES / ROUNDS;
      }
    const [before, after] = sums as [Figures, Figures];
    const say = (f: Figures) =>
      `${f.seconds.toFixed(2)} s, ${f.cpuUsPerEntry.toFixed(1)} CPU µs/entry (redis-server ${f.redisUsPerEntry.toFixed(1)})`;
    log(`sweep of ${ENTRIES} entries: shipped (untracked) ${say(after)}; tracked ${say(before)}`);
    const name = `index sweep of ${ENTRIES} CTR results (keys set and model zset), near cache on`;
    const baseline = "the same sweep with its reads tracked (as before), same run";
    return newReport("cache-sweep", [
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
    ]);
  } finally {
    await store.close();
    await redis.stop();
  }
}
