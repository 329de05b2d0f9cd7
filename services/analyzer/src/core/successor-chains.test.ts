import { describe, expect, it } from "vitest";
import { SequenceTracker, stepsOf } from "./sequence-tracker.js";
import {
  SuccessorChains,
  type SuccessorChainsBounds,
  type SuccessorChainsOptions,
} from "./successor-chains.js";

const bounds: SuccessorChainsBounds = { sources: 1000, perSource: 8, halfLifeMs: 86_400_000 };

/** Chains fed as ingestion feeds them: each read's transition, from a SequenceTracker (30 min session gap). */
function chainsOf(b: SuccessorChainsBounds = bounds, options?: Partial<SuccessorChainsOptions>) {
  const chains = new SuccessorChains(b, options);
  const sequences = new SequenceTracker(1000, 30 * 60_000);
  return Object.assign(chains, {
    observe(tenant: string, userId: string, key: string, time: number): void {
      const [step] = stepsOf([{ tenant, userId, key, time }], sequences);
      if (step !== undefined) chains.learn(step);
    },
  });
}
const k = (id: string, tenant = "acme") => `${tenant}/shard/${id}`;
const t0 = Date.UTC(2024, 0, 1);

/** Reads `order` by `user` `passes` times, a read every `gapMs`, passes an hour apart; answers the time after. */
function passes(
  chains: ReturnType<typeof chainsOf>,
  order: readonly string[],
  n: number,
  { user = "trainer", tenant = "acme", gapMs = 1000, from = t0 } = {},
): number {
  let t = from;
  for (let p = 0; p < n; p++) {
    for (const [i, id] of order.entries()) chains.observe(tenant, user, k(id, tenant), t + i * gapMs);
    t += 3_600_000;
  }
  return t;
}

describe("successor chains: the keys a read's sequence reads next, in an order no numbering shows", () => {
  it("offers the next keys of a fixed shuffle, chained, once each transition is seen often enough", () => {
    const chains = chainsOf();
    const order = ["s129", "s286", "s210", "s314", "s387", "s12"];
    let t = passes(chains, order, 2);
    // Two passes: two transitions out of each key, below the default support of 3.
    expect(chains.predict(k("s286"), t)).toEqual([]);
    t = passes(chains, order, 2, { from: t });
    const next = chains.predict(k("s286"), t);
    expect(next.map((p) => p.key)).toEqual([k("s210"), k("s314"), k("s387")]);
    for (const p of next) expect(p.confidence).toBeCloseTo(1, 10);
    // The last key of a pass leads nowhere within the session gap (passes are an hour apart).
    expect(chains.predict(k("s12"), t)).toEqual([]);
  });

  it("multiplies the shares along the chain, follows the strongest, and stops below the least confidence", () => {
    const chains = chainsOf(bounds, { minSupport: 1 });
    // x is followed by y three times in four, by z once; y always by w.
    let t = t0;
    for (const next of ["y", "y", "z", "y"]) {
      chains.observe("acme", "u", k("x"), t);
      chains.observe("acme", "u", k(next), t + 1000);
      if (next === "y") chains.observe("acme", "u", k("w"), t + 2000);
      t += 3_600_000;
    }
    const chain = chains.predict(k("x"), t);
    expect(chain.map((p) => p.key)).toEqual([k("y"), k("w")]);
    // Three in four, as decayed over the hours between them.
    expect(chain[0]!.confidence).toBeCloseTo(0.75, 2);
    expect(chain[1]!.confidence).toBeCloseTo(chain[0]!.confidence, 10);
    expect(chainsOf(bounds, { minSupport: 1, minConfidence: 0.8 }).predict(k("x"), t)).toEqual([]);
    const strict = chainsOf(bounds, { minSupport: 1, minConfidence: 0.8 });
    t = t0;
    for (const next of ["y", "y", "z", "y"]) {
      strict.observe("acme", "u", k("x"), t);
      strict.observe("acme", "u", k(next), t + 1000);
      t += 3_600_000;
    }
    expect(strict.predict(k("x"), t)).toEqual([]);
  });

  it("passes over a key due sooner than the lead, and goes on past it", () => {
    const chains = chainsOf();
    const t = passes(chains, ["a", "b", "c", "d"], 4, { gapMs: 1000 });
    // b is due 1 s after a, c 2 s, d 3 s: with 1.5 s to take and compute, b would come late.
    expect(chains.predict(k("a"), t, 1500).map((p) => p.key)).toEqual([k("c"), k("d")]);
    expect(chains.predict(k("a"), t, 0).map((p) => p.key)).toEqual([k("b"), k("c"), k("d")]);
  });

  it("keeps users' and tenants' sequences apart, and stops at a cycle", () => {
    const chains = chainsOf();
    let t = t0;
    // Two users interleave: u1 reads a b c, u2 reads c b a, alternately.
    for (let p = 0; p < 4; p++) {
      for (let i = 0; i < 3; i++) {
        chains.observe("acme", "u1", k(["a", "b", "c"][i]!), t + i * 2000);
        chains.observe("acme", "u2", k(["c", "b", "a"][i]!), t + i * 2000 + 1000);
      }
      t += 3_600_000;
    }
    // a → b always (u1), but b → c (u1) and b → a (u2) are an even split: the chain ends at b.
    // Mixed into one stream, a would be followed by c (u2's read a second later) as often as by b.
    const first = (key: string, at: number) => chains.predict(key, at)[0];
    expect(first(k("a"), t)?.key).toBe(k("b"));
    expect(first(k("a"), t)?.confidence).toBeCloseTo(1, 10);
    expect(first(k("c"), t)?.key).toBe(k("b"));
    // Another tenant's reads of the same ids are another sequence and other keys.
    passes(chains, ["a", "c"], 4, { tenant: "globex", from: t });
    expect(first(k("a"), t + 5 * 3_600_000)?.key).toBe(k("b"));
    expect(chains.predict(k("a", "globex"), t + 5 * 3_600_000).map((p) => p.key)).toEqual([k("c", "globex")]);
    // A loop a → b → a offers b, then stops rather than go round.
    const loop = chainsOf();
    passes(loop, ["a", "b", "a", "b", "a", "b", "a", "b"], 1);
    expect(loop.predict(k("a"), t0 + 60_000).map((p) => p.key)).toEqual([k("b")]);
  });

  it("forgets the dropped tenants' sources, and only theirs", () => {
    const chains = chainsOf();
    passes(chains, ["a", "b", "c"], 4);
    passes(chains, ["a", "b", "c"], 4, { tenant: "globex" });
    const t = t0 + 10 * 3_600_000;
    chains.dropTenants(new Set(["acme"]));
    expect(chains.predict(k("a"), t)).toEqual([]);
    expect(chains.predict(k("a", "globex"), t).map((p) => p.key)).toEqual([
      k("b", "globex"),
      k("c", "globex"),
    ]);
    const tenants = new Set<string>();
    chains.tenants(tenants);
    expect([...tenants]).toEqual(["globex"]);
  });

  it("stays within its bounds, keeping evicted successors' weight in the shares", () => {
    const chains = chainsOf({ ...bounds, sources: 50, perSource: 2 }, { minSupport: 1, minConfidence: 0 });
    let t = t0;
    for (let i = 0; i < 500; i++) chains.observe("acme", "u", k(`p${i}`), t + i * 1000);
    expect(chains.size).toBe(50);
    // x followed by y, z and w once each: two successors kept, each at a third of x's transitions.
    const few = chainsOf({ ...bounds, perSource: 2 }, { minSupport: 1, minConfidence: 0, depth: 1 });
    for (const next of ["y", "z", "w"]) {
      t += 3_600_000;
      few.observe("acme", "u", k("x"), t);
      few.observe("acme", "u", k(next), t + 1000);
    }
    const [only] = few.predict(k("x"), t + 2000);
    expect(only?.confidence).toBeCloseTo(1 / 3, 1);
  });

  it("follows an order that changed, as the old one decays", () => {
    const chains = chainsOf({ ...bounds, halfLifeMs: 6 * 3_600_000 });
    let t = passes(chains, ["a", "b", "c"], 10);
    expect(chains.predict(k("a"), t)[0]?.key).toBe(k("b"));
    t = passes(chains, ["a", "c", "b"], 10, { from: t + 24 * 3_600_000 });
    expect(chains.predict(k("a"), t).map((p) => p.key)).toEqual([k("c"), k("b")]);
  });

  it("offers nothing at depth 0", () => {
    const chains = chainsOf(bounds, { depth: 0 });
    const t = passes(chains, ["a", "b", "c"], 5);
    expect(chains.predict(k("a"), t)).toEqual([]);
  });
});
