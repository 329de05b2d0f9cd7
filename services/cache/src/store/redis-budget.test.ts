import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type BudgetLimits, type BudgetTally, type BudgetWrite, RedisBudget } from "./redis-budget.js";
import { RedisLayout } from "./redis-layout.js";

const url = inject("redisUrl");
const filePrefix = `test:${randomUUID().slice(0, 8)}:`;
let client: Redis;

beforeAll(() => {
  client = new Redis(url);
});

afterAll(async () => {
  const keys = await client.keys(`${filePrefix}*`);
  if (keys.length > 0) await client.unlink(...keys);
  await client.quit();
});

/**
 * The ledger's contract, written plainly: each write replaces its key's
 * size and expiry; entries expired by `now` are forgotten (at most `batch`,
 * soonest first, not evictions); then, while over either limit, the soonest
 * expiry goes (ties by key, as a sorted set orders them), at most `batch`.
 */
class LedgerModel {
  readonly entries = new Map<string, { bytes: number; expiry: number }>();
  total = 0;
  /** What the store counted for the sweeper (countGone), less what it settled. */
  gone = 0;

  constructor(readonly limits: BudgetLimits) {}

  #ordered(): string[] {
    return [...this.entries]
      .sort(([ka, a], [kb, b]) => a.expiry - b.expiry || (ka < kb ? -1 : ka > kb ? 1 : 0))
      .map(([k]) => k);
  }

  #remove(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.total -= e.bytes;
    this.entries.delete(key);
  }

  record(writes: readonly BudgetWrite[], now: number, settle = 0): BudgetTally {
    this.gone = Math.max(0, this.gone - settle);
    for (const w of writes) {
      this.#remove(w.key);
      this.entries.set(w.key, { bytes: w.bytes, expiry: Math.ceil(w.expiryMs) });
      this.total += w.bytes;
    }
    const expired = this.#ordered()
      .filter((k) => (this.entries.get(k)?.expiry ?? 0) <= now)
      .slice(0, this.limits.batch);
    for (const k of expired) this.#remove(k);
    const victims: string[] = [];
    const over = () => this.entries.size > this.limits.maxEntries || this.total > this.limits.maxBytes;
    for (const k of this.#ordered()) {
      if (!over() || victims.length >= this.limits.batch) break;
      this.#remove(k);
      victims.push(k);
    }
    if (this.total < 0 || this.entries.size === 0) this.total = 0;
    return { victims, entries: this.entries.size, gone: this.gone, expired };
  }

  forget(keys: readonly string[]): void {
    for (const k of keys) this.#remove(k);
    if (this.total < 0 || this.entries.size === 0) this.total = 0;
  }
}

let n = 0;
const ledger = (limits: BudgetLimits) => {
  const layout = new RedisLayout(`${filePrefix}${n++}:`);
  return { budget: new RedisBudget(client, layout, limits), layout };
};

async function expectSameState(budget: RedisBudget, layout: RedisLayout, model: LedgerModel): Promise<void> {
  expect(await budget.bytes()).toBe(model.total);
  expect(Number((await client.get(layout.budgetGone())) ?? 0)).toBe(model.gone);
  const scored = await client.zrange(layout.budgetExpiry(), "0", "-1", "WITHSCORES");
  const expiries: Record<string, number> = {};
  for (let i = 0; i < scored.length; i += 2) expiries[scored[i] as string] = Number(scored[i + 1]);
  const sizes = await client.hgetall(layout.budgetBytes());
  const want = [...model.entries].sort(([a], [b]) => (a < b ? -1 : 1));
  expect(Object.fromEntries(Object.entries(expiries).sort(([a], [b]) => (a < b ? -1 : 1)))).toEqual(
    Object.fromEntries(want.map(([k, e]) => [k, e.expiry])),
  );
  expect(Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, Number(v)]))).toEqual(
    Object.fromEntries(want.map(([k, e]) => [k, e.bytes])),
  );
}

describe("RedisBudget, against a plain model of the ledger", () => {
  const write = fc.record({
    key: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `t/ctr_prediction/k${i}`)),
    bytes: fc.integer({ min: 1, max: 500 }),
    // Expiries relative to the call's now: some already past, some tied.
    expiresIn: fc.integer({ min: -3, max: 12 }),
  });
  const step = fc.oneof(
    fc.record({ kind: fc.constant("record" as const), writes: fc.array(write, { maxLength: 8 }) }),
    // The sweeper's call: no writes, and a settle of up to a few more than are gone.
    fc.record({ kind: fc.constant("tally" as const), settle: fc.integer({ min: 0, max: 8 }) }),
    // The store counting entries it left to the sweeper.
    fc.record({ kind: fc.constant("count" as const), n: fc.integer({ min: 0, max: 5 }) }),
    fc.record({
      kind: fc.constant("forget" as const),
      keys: fc.array(
        fc.integer({ min: 0, max: 13 }).map((i) => `t/ctr_prediction/k${i}`),
        { maxLength: 6 },
      ),
    }),
  );

  it("names the same victims and keeps the same entries and total, step by step", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxEntries: fc.integer({ min: 1, max: 8 }),
          maxBytes: fc.integer({ min: 200, max: 2_500 }),
          batch: fc.integer({ min: 1, max: 6 }),
        }),
        fc.array(step, { minLength: 1, maxLength: 25 }),
        async (limits, steps) => {
          const { budget, layout } = ledger(limits);
          const model = new LedgerModel(limits);
          let now = 1_000;
          for (const s of steps) {
            now += 1;
            if (s.kind === "record") {
              const writes = s.writes.map((w) => ({
                key: w.key,
                bytes: w.bytes,
                expiryMs: now + w.expiresIn,
              }));
              expect(await budget.record(writes, now)).toEqual(model.record(writes, now));
            } else if (s.kind === "tally") {
              expect(await budget.tally(now, s.settle)).toEqual(model.record([], now, s.settle));
            } else if (s.kind === "count") {
              await budget.countGone(s.n);
              model.gone += s.n;
            } else {
              await budget.forget(s.keys);
              model.forget(s.keys);
            }
            await expectSameState(budget, layout, model);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("forgets, evicts and takes off more keys than one slice holds, each once", async () => {
    const limits = { maxEntries: 5_000, maxBytes: 1e12, batch: 1_000 };
    const { budget, layout } = ledger(limits);
    const model = new LedgerModel(limits);
    const writes = (from: number, count: number, expiryMs: number): BudgetWrite[] =>
      Array.from({ length: count }, (_, i) => ({
        key: `t/x/k${from + i}`,
        bytes: 10 + ((from + i) % 7),
        expiryMs,
      }));
    // 1,200 that expire, then a call that forgets 1,000 of them (the batch) in three slices.
    const dying = writes(0, 1_200, 2_000);
    expect(await budget.record(dying, 1_000)).toEqual(model.record(dying, 1_000));
    expect(await budget.record([], 2_500)).toEqual(model.record([], 2_500));
    expect(model.entries.size).toBe(200);
    await expectSameState(budget, layout, model);
    // Over maxEntries by 1,100 at once: 1,000 (the batch) go, soonest first, in slices.
    const tight = new LedgerModel({ ...limits, maxEntries: 300 });
    const small = ledger(tight.limits);
    const many = writes(10_000, 1_400, 9_000).map((w, i) => ({ ...w, expiryMs: 9_000 + (i % 50) }));
    const booked = await small.budget.record(many, 1_000);
    expect(booked).toEqual(tight.record(many, 1_000));
    expect(booked.victims).toHaveLength(1_000);
    await expectSameState(small.budget, small.layout, tight);
    // A forget of 1,300 keys, some twice and some never booked, counts each booked one once.
    const named = [...many.map((w) => w.key), ...many.slice(0, 200).map((w) => w.key), "t/x/never"];
    await small.budget.forget(named);
    tight.forget(named);
    await expectSameState(small.budget, small.layout, tight);
    expect(tight.entries.size).toBe(0);
  });
});
