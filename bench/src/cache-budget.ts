import { RedisBudget, RedisLayout } from "@prescient/cache";
import { LuaCommand } from "@prescient/kit";
import { startRedisServer } from "@prescient/kit/testing";
import { Redis } from "ioredis";
import { positiveFromEnv } from "./bench-env.js";
import { CpuProbe, redisServerPid } from "./proc-cpu.js";
import { type BenchReport, type BenchResult, newReport, result } from "./report.js";

/**
 * The Redis cache store's entry and byte budget (redis-budget.ts) where it
 * does work per key after the write itself: a cache at its budget evicts on
 * every write, every booked entry is forgotten once Redis has expired it,
 * and an invalidation takes its keys off. The shipped scripts read and
 * remove a slice of keys per command; the baseline, in the same run on the
 * same redis-server, is the scripts as they were at c68f430, one key at a
 * time (bench/src/baseline-lua). Both are driven through the same calls
 * (RedisBudget's record and forget, or the same arguments to the baseline).
 * The shipped record also answers the keys it forgot as expired (for the
 * store to prune from its indexes): that is in its figures, not the baseline's.
 *
 * Three cases, each ENTRIES keys (BENCH_BUDGET_ENTRIES, default 100,000) in
 * calls of 500 as a PutMany's booking comes (or 1,000 for forgetting, the
 * store's batch): writes into a ledger already at maxEntries (each call
 * evicts as many as it books); calls that only forget expired entries; and
 * forgets of booked keys. Costed in redis-server CPU µs per key (from /proc),
 * and in CPU summed with this process; rounds alternate, baseline first,
 * then in reverse.
 */
const ENTRIES = positiveFromEnv("BENCH_BUDGET_ENTRIES", 100_000);
const WRITES_PER_CALL = 500;
const BATCH = 1_000;
const ROUNDS = 4;

const log = (line: string): void => {
  process.stdout.write(`cache-budget: ${line}\n`);
};

/** What the cases drive: the shipped RedisBudget, or the baseline with its calls. */
type Ledger = Pick<RedisBudget, "record" | "forget">;

const recordPerKey = new LuaCommand(
  "benchBudgetRecordPerKey",
  new URL("./baseline-lua/record-budget-per-key.lua", import.meta.url),
  {
    numberOfKeys: 3,
  },
);
const forgetPerKey = new LuaCommand(
  "benchBudgetForgetPerKey",
  new URL("./baseline-lua/forget-budget-per-key.lua", import.meta.url),
  {
    numberOfKeys: 3,
  },
);

/** The baseline: RedisBudget's calls, with the one-key-at-a-time scripts. */
function perKeyLedger(client: Redis, layout: RedisLayout, maxEntries: number): Ledger {
  const keys = [layout.budgetExpiry(), layout.budgetBytes(), layout.budgetTotal()];
  recordPerKey.define(client);
  forgetPerKey.define(client);
  return {
    async record(writes, now) {
      const args: (string | number)[] = [now, maxEntries, 1e15, BATCH];
      for (const w of writes) args.push(w.key, w.bytes, Math.ceil(w.expiryMs));
      const [victims, , entries] = await recordPerKey.run<[string[], number, number]>(client, keys, args);
      // Its ledger names no expired keys and counts nothing for the sweeper.
      return { victims, entries, gone: 0, expired: [] };
    },
    async forget(named) {
      if (named.length > 0) await forgetPerKey.run(client, keys, named);
    },
  };
}

interface Figures {
  redisUs: number;
  totalUs: number;
}

type Case = "at its budget" | "forgetting expired" | "forget (invalidation)";
const cases: readonly Case[] = ["at its budget", "forgetting expired", "forget (invalidation)"];

const keyOf = (round: number, i: number): string => `bench/ctr_prediction/r${round}-${i}`;
const writesOf = (round: number, from: number, count: number, expiryMs: number) =>
  Array.from({ length: count }, (_, j) => ({
    key: keyOf(round, from + j),
    bytes: 700 + ((from + j) % 50),
    expiryMs,
  }));

/** One case on a fresh ledger: set up unmeasured, then ENTRIES keys measured. */
async function measure(
  client: Redis,
  make: (layout: RedisLayout, maxEntries: number) => Ledger,
  which: Case,
  round: number,
  pids: number[],
): Promise<Figures> {
  const layout = new RedisLayout(`bench:budget:${round}:${which.replaceAll(" ", "-")}:`);
  const now = 1_000_000;
  const capacity = which === "at its budget" ? ENTRIES : ENTRIES * 2;
  const ledger = make(layout, capacity);
  // Booked first: a full ledger, entries about to expire, or entries to forget.
  const expiry = which === "forgetting expired" ? now + 1 : now + 3_600_000;
  for (let i = 0; i < ENTRIES; i += WRITES_PER_CALL)
    await ledger.record(writesOf(round, i, Math.min(WRITES_PER_CALL, ENTRIES - i), expiry + (i % 97)), now);
  const probe = await CpuProbe.start(pids);
  let evicted = 0;
  if (which === "at its budget") {
    for (let i = 0; i < ENTRIES; i += WRITES_PER_CALL) {
      const count = Math.min(WRITES_PER_CALL, ENTRIES - i);
      evicted += (await ledger.record(writesOf(round + 1_000, i, count, now + 7_200_000), now)).victims
        .length;
    }
  } else if (which === "forgetting expired") {
    for (let i = 0; i < ENTRIES; i += BATCH) await ledger.record([], now + 10_000);
  } else {
    for (let i = 0; i < ENTRIES; i += BATCH)
      await ledger.forget(
        Array.from({ length: Math.min(BATCH, ENTRIES - i) }, (_, j) => keyOf(round, i + j)),
      );
  }
  const cpu = await probe.stop();
  // Every booked key went: evicted for the new ones, or off the ledger, which holds only the new ones then.
  const held = await client.zcard(layout.budgetExpiry());
  const done = which === "at its budget" ? evicted : ENTRIES - held;
  if (done !== ENTRIES || held !== (which === "at its budget" ? ENTRIES : 0))
    throw new Error(`${which}: ${done} keys handled and ${held} still booked, expected ${ENTRIES}`);
  return { redisUs: (cpu.byPid.get(pids[1] as number) ?? 0) / ENTRIES, totalUs: cpu.totalUs / ENTRIES };
}

export async function run(): Promise<BenchReport> {
  const redis = await startRedisServer();
  const client = new Redis(redis.url);
  const results: BenchResult[] = [];
  try {
    const pids = [process.pid, await redisServerPid(redis.url)];
    const shipped = (layout: RedisLayout, maxEntries: number): Ledger =>
      new RedisBudget(client, layout, { maxEntries, maxBytes: 1e15, batch: BATCH });
    const baseline = (layout: RedisLayout, maxEntries: number): Ledger =>
      perKeyLedger(client, layout, maxEntries);
    const ways = [baseline, shipped];
    let round = 0;
    for (const which of cases) {
      const sums: Figures[] = ways.map(() => ({ redisUs: 0, totalUs: 0 }));
      for (let r = 0; r < ROUNDS; r++)
        for (const w of r % 2 === 0 ? [0, 1] : [1, 0]) {
          const f = await measure(client, ways[w] as typeof shipped, which, round++ * 10, pids);
          const s = sums[w] as Figures;
          s.redisUs += f.redisUs / ROUNDS;
          s.totalUs += f.totalUs / ROUNDS;
          await client.flushall();
        }
      const [before, after] = sums as [Figures, Figures];
      log(
        `${which}: shipped ${after.redisUs.toFixed(2)} redis-server µs/key (${after.totalUs.toFixed(2)} with this process); ` +
          `one key at a time ${before.redisUs.toFixed(2)} (${before.totalUs.toFixed(2)})`,
      );
      const name = `cache budget ledger, ${which}, ${ENTRIES} keys`;
      const base = "the same calls, scripts one key at a time (c68f430), same run";
      results.push(
        result({
          case: name,
          metric: "redis-server CPU per key",
          unit: "µs",
          value: after.redisUs,
          baseline: base,
          baseline_value: before.redisUs,
          target_ratio: null,
          lowerIsBetter: true,
        }),
        result({
          case: name,
          metric: "CPU per key (this process + redis-server)",
          unit: "µs",
          value: after.totalUs,
          baseline: base,
          baseline_value: before.totalUs,
          target_ratio: null,
          lowerIsBetter: true,
        }),
      );
    }
  } finally {
    await client.quit();
    await redis.stop();
  }
  return newReport("cache-budget", results);
}
