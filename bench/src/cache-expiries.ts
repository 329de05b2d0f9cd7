import { RedisCacheStore, type StoreWrite } from "@prescient/cache";
import type { commonV1 } from "@prescient/contracts";
import { formatKey } from "@prescient/core";
import { startRedisServer } from "@prescient/kit/testing";
import { positiveFromEnv } from "./bench-env.js";
import { CpuProbe, redisServerPid } from "./proc-cpu.js";
import { type BenchReport, type BenchResult, newReport, result } from "./report.js";

/**
 * The freshness check's read of the Redis cache store: what the precomputer
 * asks before it enqueues a trigger's fan-out, and refresh-ahead of its hot
 * keys (in process, CacheCore peekExpiries; in a split mesh, LookupMany peek
 * with expiries_only). The shipped read (CacheStore.expiries: TTLs for the
 * types whose results average 1 KB or more, values below) and a store that
 * reads every expiry from TTLs (physical-ttls.lua), against the same keys'
 * values read and parsed (getMany with peek: one untracked MGET per
 * tenant), which is how every expiry was read before, in the same run on
 * the same redis-server. Two key sets: CTR results (one float, about 60
 * bytes stored) and thumbnails (64 KB payloads), read in calls of 600 keys
 * (a TriggerMany of 100 six-way events) with 4 in flight, rounds ABCCBA.
 * Costed in CPU µs per key over this process and redis-server, and in
 * redis-server alone: a TTL read by script costs Redis more than a small
 * value does, and Redis is the one process that does not scale out.
 */
const KEYS = positiveFromEnv("BENCH_EXPIRY_KEYS", 3_000);
const CALLS = positiveFromEnv("BENCH_EXPIRY_CALLS", 300);
const BATCH = 600;
const INFLIGHT = 4;
const ROUNDS = 3;
const TENANT = "bench";

const log = (line: string): void => {
  process.stdout.write(`cache-expiries: ${line}\n`);
};

export interface KeySet {
  label: string;
  keys: string[];
  writes: StoreWrite[];
}

/** `count` results of one task type for tenant "bench", living an hour, of model `taskType` version 1. */
export function keySet(
  label: string,
  taskType: string,
  value: (i: number) => commonV1.Value,
  count = KEYS,
): KeySet {
  const now = Date.now();
  const ttlMs = 3_600_000;
  const writes = Array.from({ length: count }, (_, i): StoreWrite => {
    const key = formatKey({ tenant: TENANT, taskType, entityId: `e-${i}` });
    return {
      key,
      tenant: TENANT,
      taskType,
      result: {
        value: value(i),
        modelName: taskType,
        modelVersion: "1",
        computedAt: new Date(now),
        expiresAt: new Date(now + ttlMs),
        computeMs: 3,
        inputDigest: "",
        tags: [],
      },
      physicalExpiryMs: now + ttlMs,
    };
  });
  return { label, keys: writes.map((w) => w.key), writes };
}

export const ctr = (i: number): commonV1.Value => ({
  tensors: { tensors: [{ name: "probability", datatype: "FP32", shape: [1n, 1n], data: [0.01 + i / 1e5] }] },
  contentType: "",
});
const thumbnail = (i: number): commonV1.Value => ({
  payload: Buffer.alloc(64 * 1024, i % 251),
  contentType: "image/jpeg",
});

type Read = (keys: readonly string[]) => Promise<(number | undefined)[]>;

interface Figures {
  keysPerSecond: number;
  cpuUsPerKey: number;
  redisUsPerKey: number;
}

/**
 * CALLS calls of BATCH keys drawn in turn from the set, INFLIGHT at a time;
 * checks every key is found. `pids`: this process, then redis-server.
 */
async function drive(read: Read, set: KeySet, pids: number[]): Promise<Figures> {
  let next = 0;
  const probe = await CpuProbe.start(pids);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (next < CALLS) {
        const start = (next++ * BATCH) % set.keys.length;
        const batch = Array.from(
          { length: BATCH },
          (_, j) => set.keys[(start + j) % set.keys.length] as string,
        );
        const expiries = await read(batch);
        if (expiries.some((e) => e === undefined))
          throw new Error(`${set.label}: a stored key read as absent`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = await probe.stop();
  const keys = CALLS * BATCH;
  const redisUs = cpu.byPid.get(pids[1] as number) ?? 0;
  return { keysPerSecond: keys / seconds, cpuUsPerKey: cpu.totalUs / keys, redisUsPerKey: redisUs / keys };
}

/** Mean figures of each way over ROUNDS rounds of the ways in order, then in reverse (ABCCBA). */
async function compare(ways: readonly Read[], set: KeySet, pids: number[]): Promise<Figures[]> {
  const sums = ways.map(() => ({ keysPerSecond: 0, cpuUsPerKey: 0, redisUsPerKey: 0 }));
  const order = [...ways.keys(), ...[...ways.keys()].reverse()];
  for (let r = 0; r < ROUNDS; r++)
    for (const w of order) {
      const f = await drive(ways[w] as Read, set, pids);
      const s = sums[w] as Figures;
      s.keysPerSecond += f.keysPerSecond / (2 * ROUNDS);
      s.cpuUsPerKey += f.cpuUsPerKey / (2 * ROUNDS);
      s.redisUsPerKey += f.redisUsPerKey / (2 * ROUNDS);
    }
  return sums;
}

const describe = (f: Figures): string =>
  `${Math.round(f.keysPerSecond)} keys/s, ${f.cpuUsPerKey.toFixed(2)} CPU µs/key (redis-server ${f.redisUsPerKey.toFixed(2)})`;

export async function run(): Promise<BenchReport> {
  const redis = await startRedisServer();
  const options = { url: redis.url, keyPrefix: "bench:expiries:", sweepIntervalMs: 0 };
  // The shipped store, which writes the results (and so learns their sizes); one that reads every expiry from TTLs.
  const store = new RedisCacheStore(options);
  const allTtls = new RedisCacheStore({ ...options, expiriesFromTtlMinBytes: 0 });
  const results: BenchResult[] = [];
  try {
    await Promise.all([store.ready(), allTtls.ready()]);
    const pids = [process.pid, await redisServerPid(redis.url)];
    const noGrace = (): number => 0;
    const values: Read = async (keys) =>
      (await store.getMany(keys, { peek: true })).map((r) => r?.expiresAt?.getTime());
    const shipped: Read = (keys) => store.expiries(keys, noGrace);
    const ttls: Read = (keys) => allTtls.expiries(keys, noGrace);
    for (const set of [
      keySet("ctr", "ctr_prediction", ctr),
      keySet("thumbnail", "thumbnail_generation", thumbnail),
    ]) {
      for (let i = 0; i < set.writes.length; i += 500) await store.putMany(set.writes.slice(i, i + 500));
      const ways = [values, shipped, ttls];
      await compare(ways, { ...set, keys: set.keys.slice(0, BATCH) }, pids); // warm-up
      const [before, after, fromTtls] = (await compare(ways, set, pids)) as [Figures, Figures, Figures];
      log(`${set.label}: values ${describe(before)}; shipped ${describe(after)}; TTLs ${describe(fromTtls)}`);
      const name = `freshness check of ${set.label} results, ${BATCH} keys per call, c=${INFLIGHT}, redis`;
      const baseline = "the same keys' values read and parsed (getMany peek), same run";
      for (const [way, f] of [
        ["", after],
        [", TTLs whatever the size", fromTtls],
      ] as const)
        results.push(
          result({
            case: name + way,
            metric: "throughput",
            unit: "keys/s",
            value: f.keysPerSecond,
            baseline,
            baseline_value: before.keysPerSecond,
            target_ratio: null,
          }),
          result({
            case: name + way,
            metric: "CPU per key (this process + redis-server)",
            unit: "µs",
            value: f.cpuUsPerKey,
            baseline,
            baseline_value: before.cpuUsPerKey,
            target_ratio: null,
            lowerIsBetter: true,
          }),
          result({
            case: name + way,
            metric: "redis-server CPU per key",
            unit: "µs",
            value: f.redisUsPerKey,
            baseline,
            baseline_value: before.redisUsPerKey,
            target_ratio: null,
            lowerIsBetter: true,
          }),
        );
    }
  } finally {
    await Promise.all([store.close(), allTtls.close()]);
    await redis.stop();
  }
  return newReport("cache-expiries", results);
}
