import { Analyzer, emptyIngestResult, MemoryAnalyzerStore } from "@prescient/analyzer";
import { ManualClock, TaskTypeRegistry } from "@prescient/core";
import { parsePrecomputerConfig } from "@prescient/precomputer";
import { describe, expect, it } from "vitest";
import type { PolicyContext } from "../../sim/policy.js";
import { MemoryModelPublisher, SparseScorer } from "./model-ports.js";
import { refreshCandidates } from "./refresh-candidates.js";
import { RefreshSource } from "./refresh-source.js";

const hour = 3_600_000;
const settings = parsePrecomputerConfig({}, new TaskTypeRegistry([])).refreshAhead;
const all = { taskType: undefined, tenant: undefined } as never;

describe("refreshCandidates", () => {
  it("finds, near expiry, the same keys and demand by the analyzer's whole sketch as by TopPatterns", async () => {
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    const t0 = clock.now();
    const analyzer = new Analyzer(
      { store: new MemoryAnalyzerStore(), publisher: new MemoryModelPublisher(), scorer: new SparseScorer() },
      { clock },
    );
    const reads = [];
    for (let i = 0; i < 5; i++)
      for (let n = 0; n <= i; n++)
        reads.push({
          time: new Date(t0 + n * 1000),
          tenant: "t",
          taskType: "dash",
          entityId: `k${i}`,
          key: `t/dash/k${i}`,
          userId: "",
          outcome: 3,
          computeMs: 10,
          latencyMs: 0,
        });
    clock.set(t0 + 10_000);
    await analyzer.recordQueries(reads, emptyIngestResult());
    const refresh = new RefreshSource(settings);
    // k0..k2 are stored and expire within the horizon; k3, k4 expire later.
    for (const [i, expires] of [
      [0, t0 + 15 * 60_000],
      [1, t0 + 5 * 60_000],
      [2, t0 + 9 * 60_000],
      [3, t0 + 50 * 60_000],
      [4, t0 + 55 * 60_000],
    ] as const)
      refresh.stored(
        { key: `t/dash/k${i}`, tenant: "t", taskType: "dash", entityId: `k${i}` },
        expires,
        hour,
      );
    const expiry = new Map([1, 2, 3, 4].map((i) => [`t/dash/k${i}`, t0 + [5, 9, 50, 55][i - 1]! * 60_000]));
    const ctx = {
      now: () => clock.now(),
      ttlMs: () => hour,
      cache: { freshUntil: (k: string) => expiry.get(k), readyAt: () => undefined },
    } as unknown as PolicyContext;
    const fast = await refreshCandidates(analyzer, refresh, ctx, all, { ...settings, candidates: 10_000 });
    const ranked = await refreshCandidates(analyzer, refresh, ctx, all, { ...settings, candidates: 100 });
    expect(fast.map((c) => c.key)).toEqual(["t/dash/k2", "t/dash/k1"]);
    const near = ranked.filter((c) => c.expiresAt !== undefined && c.expiresAt - clock.now() <= 10 * 60_000);
    expect(near.map((c) => [c.key, c.demand, c.expiresAt])).toEqual(
      fast.map((c) => [c.key, c.demand, c.expiresAt]),
    );
    expect(fast[0]!.demand).toBeGreaterThan(fast[1]!.demand);
  });
});
