import { RedisCacheStore, type StoreWrite } from "@prescient/cache";
import { formatKey } from "@prescient/core";
import { startRedisServer } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { positiveFromEnv } from "./bench-env.js";
import { ctr } from "./cache-expiries.js";
import { nearCacheArmed } from "./cache-sweep.js";
import { CpuProbe, redisServerPid } from "./proc-cpu.js";
import { type BenchReport, newReport, result } from "./report.js";

/**
 * The Redis cache store in a steady state of churn, where its index
 * sweeper's cost shows: results written at a steady rate, each living one
 * TTL, so that as many expire as are written. The sweeper's timer ticks
 * every second; a TTL of 12 ticks is a 1-hour TTL at the 5-minute default.
 * Two ways, same run, on the same code:
 *
 * - shipped: entries that leave the budget's ledger (here: as Redis
 *   expires them) are taken out of their tenant's indexes as they leave,
 *   and the timer sweeps only for what that leaves (a tenant of many
 *   indexes), once it is a quarter of the entries held;
 * - sweeping on every tick (sweepMinStaleShare 0), as every store did
 *   before 8f7129b.
 *
 * Each round starts on an empty Redis, fills for one TTL, then measures
 * BENCH_CHURN_SECONDS (default 24): CPU µs per written entry summed over
 * this process and redis-server (from /proc), seconds spent sweeping, and,
 * at its end, index members left behind by gone entries as a share of the
 * live ones (the keys set against the ledger). Rounds: baseline, shipped,
 * shipped, baseline. BENCH_CHURN_RATE writes per second (default 2,500, as
 * PutManys of a tenth of it every 100 ms), BENCH_CHURN_TTL_MS the TTL
 * (default 12,000).
 */
const RATE = positiveFromEnv("BENCH_CHURN_RATE", 2_500);
const TTL_MS = positiveFromEnv("BENCH_CHURN_TTL_MS", 12_000);
const SECONDS = positiveFromEnv("BENCH_CHURN_SECONDS", 24);
const TICK_MS = 1_000;
const PUT_EVERY_MS = 100;
const TENANT = "bench";

const log = (line: string): void => {
  process.stdout.write(`cache-churn: ${line}\n`);
};

interface Round {
  written: number;
  cpuUsPerEntry: number;
  redisUsPerEntry: number;
  sweeps: number;
  sweepSeconds: number;
  staleShare: number;
}

/** Writes RATE new CTR results a second, each living TTL_MS, until `until` (ms since epoch). */
async function writeUntil(store: RedisCacheStore, until: number, next: { id: number }): Promise<number> {
  const perPut = Math.max(1, Math.round((RATE * PUT_EVERY_MS) / 1000));
  let written = 0;
  for (let at = Date.now(); at < until; at += PUT_EVERY_MS) {
    const now = Date.now();
    const writes = Array.from({ length: perPut }, (): StoreWrite => {
      const i = next.id++;
      return {
        key: formatKey({ tenant: TENANT, taskType: "ctr_prediction", entityId: `ad-${i}` }),
        tenant: TENANT,
        taskType: "ctr_prediction",
        result: {
          value: ctr(i),
          modelName: "ctr",
          modelVersion: "1",
          computedAt: new Date(now),
          expiresAt: new Date(now + TTL_MS),
          computeMs: 3,
          inputDigest: "",
          tags: [],
        },
        physicalExpiryMs: now + TTL_MS,
      };
    });
    await store.putMany(writes);
    written += perPut;
    const wait = at + PUT_EVERY_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return written;
}

async function round(url: string, admin: Redis, pids: number[], share: number): Promise<Round> {
  await admin.flushall();
  let sweeps = 0;
  let sweepSeconds = 0;
  const store = new RedisCacheStore({
    url,
    keyPrefix: "bench:churn:",
    sweepIntervalMs: TICK_MS,
    sweepMinStaleShare: share,
    onSwept: ({ seconds }) => {
      sweeps++;
      sweepSeconds += seconds;
    },
  });
  try {
    await nearCacheArmed(store);
    const next = { id: 0 };
    await writeUntil(store, Date.now() + TTL_MS, next);
    sweeps = 0;
    sweepSeconds = 0;
    const probe = await CpuProbe.start(pids);
    const written = await writeUntil(store, Date.now() + SECONDS * 1000, next);
    const cpu = await probe.stop();
    const members = await admin.scard(store.layout.keys(TENANT));
    const live = await admin.zcard(store.layout.budgetExpiry());
    return {
      written,
      cpuUsPerEntry: cpu.totalUs / written,
      redisUsPerEntry: (cpu.byPid.get(pids[1] as number) ?? 0) / written,
      sweeps,
      sweepSeconds,
      // The ledger holds an entry 250 ms past its expiry (ledgerLagMs), so the keys set may hold fewer.
      staleShare: Math.max(0, members - live) / Math.max(1, live),
    };
  } finally {
    await store.close();
  }
}

export async function run(): Promise<BenchReport> {
  const redis = await startRedisServer();
  const admin = new Redis(redis.url);
  try {
    const pids = [process.pid, await redisServerPid(redis.url)];
    const ways: [string, number][] = [
      ["sweeping on every tick (sweepMinStaleShare 0, as before 8f7129b)", 0],
      ["shipped (gone entries pruned as they leave, sweeps only for what that leaves)", 0.25],
    ];
    const sums = ways.map(
      (): Round => ({
        written: 0,
        cpuUsPerEntry: 0,
        redisUsPerEntry: 0,
        sweeps: 0,
        sweepSeconds: 0,
        staleShare: 0,
      }),
    );
    log(
      `${RATE} writes/s living ${TTL_MS / 1000} s (about ${Math.round((RATE * TTL_MS) / 1000)} live), ` +
        `sweeper ticking every ${TICK_MS / 1000} s, ${SECONDS} s measured per round`,
    );
    for (const w of [0, 1, 1, 0]) {
      const [label, share] = ways[w] as [string, number];
      const r = await round(redis.url, admin, pids, share);
      log(
        `  ${label}: ${r.written} written, ${r.cpuUsPerEntry.toFixed(1)} CPU µs/entry (redis-server ` +
          `${r.redisUsPerEntry.toFixed(1)}), ${r.sweeps} sweeps taking ${r.sweepSeconds.toFixed(2)} s, ` +
          `stale index members ${(100 * r.staleShare).toFixed(1)}% of live entries at the end`,
      );
      const s = sums[w] as Round;
      for (const k of Object.keys(s) as (keyof Round)[]) s[k] += r[k] / 2;
    }
    const [before, after] = sums as [Round, Round];
    log(
      `shipped against every tick: ${(before.cpuUsPerEntry / after.cpuUsPerEntry).toFixed(2)}x less CPU per written entry, ` +
        `${after.sweepSeconds.toFixed(2)} s sweeping per round against ${before.sweepSeconds.toFixed(2)} s`,
    );
    const name = `${RATE} CTR results/s living ${TTL_MS / 1000} s, sweeper ticking every ${TICK_MS / 1000} s, near cache on`;
    const baseline = `${(ways[0] as [string, number])[0]}, same run`;
    return newReport("cache-churn", [
      result({
        case: name,
        metric: "CPU per written entry (this process + redis-server)",
        unit: "µs",
        value: after.cpuUsPerEntry,
        baseline,
        baseline_value: before.cpuUsPerEntry,
        target_ratio: null,
        lowerIsBetter: true,
      }),
      result({
        case: name,
        metric: "redis-server CPU per written entry",
        unit: "µs",
        value: after.redisUsPerEntry,
        baseline,
        baseline_value: before.redisUsPerEntry,
        target_ratio: null,
        lowerIsBetter: true,
      }),
      result({
        case: name,
        metric: "stale index members at the end, share of live entries",
        unit: "share",
        value: after.staleShare,
        baseline,
        baseline_value: before.staleShare,
        target_ratio: null,
        lowerIsBetter: true,
      }),
    ]);
  } finally {
    await admin.quit();
    await redis.stop();
  }
}
