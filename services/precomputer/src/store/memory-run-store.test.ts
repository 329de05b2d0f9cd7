import { mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import {
  type ClaimOutcome,
  type ClaimRequest,
  decideClaim,
  type RunFinish,
  type RunRecord,
  runHistoryLimit,
} from "../core/run-store.js";
import { MemoryRunStore } from "./memory-run-store.js";
import { runStoreConformance } from "./run-store-conformance.test-util.js";

runStoreConformance(
  "memory",
  async () => new MemoryRunStore(),
  async (clock, ms) => clock.advance(ms),
);

/** The store as first written (structured clones, a Set per schedule for the claim order). */
class ReferenceRunStore {
  readonly #runs = new Map<string, RunRecord>();
  readonly #leases = new Map<string, { owner: string; until: number }>();
  readonly #bySchedule = new Map<string, Set<string>>();

  claim(request: ClaimRequest): ClaimOutcome {
    const lease = this.#leases.get(request.key);
    const held = lease !== undefined && lease.until > request.now;
    const outcome = decideClaim(this.#runs.get(request.key), held, request);
    if (outcome.claimed) {
      this.#runs.set(request.key, outcome.record);
      this.#leases.set(request.key, { owner: request.owner, until: request.now + request.leaseMs });
      let keys = this.#bySchedule.get(request.schedule);
      if (keys === undefined) {
        keys = new Set();
        this.#bySchedule.set(request.schedule, keys);
      }
      keys.delete(request.key);
      keys.add(request.key);
      let excess = keys.size - runHistoryLimit;
      for (const k of keys) {
        if (excess <= 0) break;
        if (this.#runs.get(k)?.status === "running") continue;
        keys.delete(k);
        this.#runs.delete(k);
        this.#leases.delete(k);
        excess--;
      }
    }
    return structuredClone(outcome);
  }

  finish(key: string, owner: string, outcome: RunFinish): boolean {
    const record = this.#runs.get(key);
    if (record === undefined || record.status !== "running" || record.owner !== owner) return false;
    this.#leases.delete(key);
    const { retryAt, ...rest } = outcome;
    this.#runs.set(key, { ...record, ...rest, ...(retryAt !== undefined ? { retryAt } : {}) });
    return true;
  }

  list(): RunRecord[] {
    return [...this.#runs.values()]
      .sort((a, b) => b.startedAt - a.startedAt || (a.key < b.key ? 1 : -1))
      .map((r) => structuredClone(r));
  }
}

describe("MemoryRunStore history", () => {
  it("claims, finishes and trims exactly as the first version did", async () => {
    const random = mulberry32(5);
    const store = new MemoryRunStore();
    const ref = new ReferenceRunStore();
    let now = 1_000_000;
    const running: Array<{ key: string; owner: string }> = [];
    for (let step = 0; step < 3000; step++) {
      now += Math.floor(random() * 3000);
      const schedule = random() < 0.7 ? "often" : "rare";
      // Windows are revisited now and then (retries, takeovers), so keys are claimed again.
      const window = Math.floor(now / 1000) - (random() < 0.2 ? Math.floor(random() * 300) : 0);
      const request: ClaimRequest = {
        key: `${schedule}@${window}`,
        schedule,
        windowStart: window * 1000,
        owner: random() < 0.5 ? "a" : "b",
        now,
        leaseMs: 5000,
        maxAttempts: 3,
      };
      const outcome = await store.claim(request);
      expect(outcome).toEqual(ref.claim(request));
      if (outcome.claimed) running.push({ key: request.key, owner: request.owner });
      // Finish some runs, leaving others running (never trimmed) for a while.
      while (running.length > 0 && random() < 0.6) {
        const r = running.splice(Math.floor(random() * running.length), 1)[0]!;
        const failed = random() < 0.2;
        const finish: RunFinish = {
          status: failed ? "failed" : "succeeded",
          finishedAt: now,
          items: Math.floor(random() * 5),
          error: failed ? "boom" : "",
          note: "n",
          ...(failed ? { retryAt: now + 2000 } : {}),
        };
        expect(await store.finish(r.key, r.owner, finish)).toBe(ref.finish(r.key, r.owner, finish));
      }
      if (step % 100 === 0) expect(await store.list({ limit: 1000 })).toEqual(ref.list());
    }
    expect(await store.list({ limit: 1000 })).toEqual(ref.list());
    const often = (await store.list({ schedule: "often", limit: 1000 })).length;
    expect(often).toBeGreaterThanOrEqual(runHistoryLimit);
  });
});
