import { ManualClock } from "@prescient/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ClaimRequest, RunStore } from "../core/run-store.js";

/**
 * One behaviour for every RunStore. `lapse(ms)` lets a lease of `ms` run out
 * (the memory store measures leases on the caller's clock, Redis on its own).
 */
export function runStoreConformance(
  name: string,
  create: () => Promise<RunStore>,
  lapse: (clock: ManualClock, ms: number) => Promise<void>,
): void {
  describe(`RunStore conformance: ${name}`, () => {
    let store: RunStore;
    let clock: ManualClock;
    let n = 0;
    const request = (over: Partial<ClaimRequest> = {}): ClaimRequest => ({
      key: `s${n}@2024-05-01T02:00:00.000Z`,
      schedule: `s${n}`,
      windowStart: Date.parse("2024-05-01T02:00:00Z"),
      owner: "a",
      now: clock.now(),
      leaseMs: 200,
      maxAttempts: 3,
      ...over,
    });

    beforeEach(async () => {
      n++;
      clock = new ManualClock(Date.parse("2024-05-01T02:00:01Z"));
      store = await create();
      await store.ready();
    });
    afterEach(async () => {
      await store.close();
    });

    it("lets exactly one of many racing owners claim a window", async () => {
      const outcomes = await Promise.all(
        ["a", "b", "c", "d", "e"].map((owner) => store.claim(request({ owner }))),
      );
      const winners = outcomes.filter((o) => o.claimed);
      expect(winners).toHaveLength(1);
      expect(outcomes.filter((o) => !o.claimed).map((o) => !o.claimed && o.why)).toEqual([
        "running",
        "running",
        "running",
        "running",
      ]);
    });

    it("records the outcome and never runs a succeeded window again", async () => {
      const first = await store.claim(request());
      expect(first).toMatchObject({
        claimed: true,
        takeover: false,
        record: { status: "running", owner: "a", attempts: 1 },
      });
      clock.advance(50);
      expect(
        await store.finish(request().key, "a", {
          status: "succeeded",
          finishedAt: clock.now(),
          items: 7,
          error: "",
          note: "ok",
        }),
      ).toBe(true);
      const again = await store.claim(request({ owner: "b", now: clock.now() }));
      expect(again).toMatchObject({ claimed: false, why: "succeeded" });
      await lapse(clock, 250);
      expect(await store.claim(request({ owner: "b", now: clock.now() }))).toMatchObject({
        claimed: false,
        why: "succeeded",
      });
      const record = await store.get(request().key);
      expect(record).toMatchObject({
        status: "succeeded",
        owner: "a",
        items: 7,
        note: "ok",
        finishedAt: clock.now() - 250,
      });
    });

    it("takes a run over once its owner's lease lapses, and drops the old owner's late outcome", async () => {
      await store.claim(request({ owner: "crashed" }));
      expect(await store.claim(request({ owner: "b", now: clock.now() }))).toMatchObject({
        claimed: false,
        why: "running",
      });
      await lapse(clock, 250);
      const takeover = await store.claim(request({ owner: "b", now: clock.now() }));
      expect(takeover).toMatchObject({ claimed: true, takeover: true, record: { owner: "b", attempts: 2 } });
      expect(await store.renew(request().key, "crashed", 200, clock.now())).toBe(false);
      expect(
        await store.finish(request().key, "crashed", {
          status: "succeeded",
          finishedAt: clock.now(),
          items: 1,
          error: "",
          note: "",
        }),
      ).toBe(false);
      expect(await store.renew(request().key, "b", 200, clock.now())).toBe(true);
      expect(
        await store.finish(request().key, "b", {
          status: "succeeded",
          finishedAt: clock.now(),
          items: 2,
          error: "",
          note: "",
        }),
      ).toBe(true);
      expect(await store.get(request().key)).toMatchObject({ owner: "b", items: 2, status: "succeeded" });
    });

    it("retries a failed window after retryAt, up to maxAttempts", async () => {
      const key = request().key;
      await store.claim(request());
      await store.finish(key, "a", {
        status: "failed",
        finishedAt: clock.now(),
        items: 0,
        error: "analyzer down",
        note: "",
        retryAt: clock.now() + 1000,
      });
      expect(await store.claim(request({ owner: "b", now: clock.now() + 500 }))).toMatchObject({
        claimed: false,
        why: "retry_later",
      });
      const retry = await store.claim(request({ owner: "b", now: clock.now() + 1000 }));
      expect(retry).toMatchObject({
        claimed: true,
        takeover: false,
        record: { attempts: 2, owner: "b", error: "analyzer down" },
      });
      await store.finish(key, "b", {
        status: "failed",
        finishedAt: clock.now(),
        items: 0,
        error: "still down",
        note: "",
        retryAt: clock.now(),
      });
      expect(await store.claim(request({ owner: "c", now: clock.now() + 1 }))).toMatchObject({
        claimed: true,
        record: { attempts: 3 },
      });
      await store.finish(key, "c", {
        status: "failed",
        finishedAt: clock.now(),
        items: 0,
        error: "down",
        note: "",
        retryAt: clock.now(),
      });
      expect(await store.claim(request({ owner: "d", now: clock.now() + 1 }))).toMatchObject({
        claimed: false,
        why: "attempts_exhausted",
      });
    });

    it("lists history newest first, per schedule or all", async () => {
      const schedule = `list${n}`;
      for (let i = 0; i < 3; i++) {
        const key = `${schedule}@${i}`;
        await store.claim(request({ key, schedule, windowStart: i, now: clock.now() + i }));
        await store.finish(key, "a", {
          status: "succeeded",
          finishedAt: clock.now() + i,
          items: i,
          error: "",
          note: "",
        });
      }
      const runs = await store.list({ schedule, limit: 2 });
      expect(runs.map((r) => r.key)).toEqual([`${schedule}@2`, `${schedule}@1`]);
      const all = await store.list({ limit: 100 });
      expect(all.map((r) => r.key)).toContain(`${schedule}@0`);
      expect(await store.list({ schedule: "never-ran", limit: 5 })).toEqual([]);
    });
  });
}
