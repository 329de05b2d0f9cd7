import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { MemoryPublisher } from "./analyzer.test-util.js";
import type { AnalyzerObserver, RetrainResult } from "./analyzer-observer.js";
import type { NextActionScorer } from "./model/ports.js";
import { syntheticPopulation } from "./next-action/synthetic-population.test-util.js";
import { NextActionPredictor } from "./next-action-predictor.js";
import { NextActionRetrainer } from "./next-action-retrainer.js";
import { resolveSettings } from "./settings.js";
import { MemoryAnalyzerStore } from "./store/memory-store.js";

const scorer: NextActionScorer = {
  description: "none",
  score: async () => {
    throw new Error("not scored here");
  },
  modelPublished: async () => {},
  close: async () => {},
};

describe("next-action retraining", () => {
  it("reuses the last round's outcome when neither the histories nor the model changed, and trains again when they do", async () => {
    const start = Date.UTC(2025, 0, 6);
    const population = syntheticPopulation({ users: 80, sessionsPerUser: 6, start, days: 7, seed: 11 });
    const clock = new ManualClock(start + 8 * 86_400_000);
    const settings = resolveSettings({ clock });
    const store = new MemoryAnalyzerStore();
    const limits = { perUser: settings.maxActionsPerUser, users: settings.maxUsers };
    await store.appendActions(
      population.histories.flatMap((h) =>
        h.actions.map((a) => ({ tenant: h.tenant, userId: h.userId, ...a })),
      ),
      limits,
    );
    const publisher = new MemoryPublisher();
    const predictor = new NextActionPredictor({ settings, store, publisher, scorer });
    const retrainer = new NextActionRetrainer({ settings, store, publisher, scorer, predictor });

    // Rounds apart by the minimum interval, so that each call is a round of its own.
    const first = await retrainer.retrain();
    clock.advance(settings.retrainMinIntervalMs);
    const second = await retrainer.retrain();
    const adopted = predictor.current?.model;
    clock.advance(settings.retrainMinIntervalMs);
    const third = await retrainer.retrain();
    expect(first.promoted && second.promoted && third.promoted).toBe(true);
    expect([first.version, second.version, third.version]).toEqual(["1", "2", "3"]);
    // The same data trains the same candidate; from the third round on it is the second's, not trained again.
    expect(second.candidate).toEqual(first.candidate);
    expect(third).toEqual({ ...second, version: "3" });
    expect(predictor.current?.model).toBe(adopted);

    clock.advance(60_000);
    await store.appendActions(
      [{ tenant: "t", userId: "new-user", action: "search", time: clock.now() }],
      limits,
    );
    await store.appendActions(
      [{ tenant: "t", userId: "new-user", action: "logout", time: clock.now() }],
      limits,
    );
    const fourth = await retrainer.retrain();
    expect(fourth.version).toBe("4");
    expect(predictor.current?.model).not.toBe(adopted);
  });

  it("answers calls within the minimum interval of the last round with its report, and trains again after it", async () => {
    const start = Date.UTC(2025, 0, 6);
    const population = syntheticPopulation({ users: 80, sessionsPerUser: 6, start, days: 7, seed: 11 });
    const clock = new ManualClock(start + 8 * 86_400_000);
    const settings = resolveSettings({ clock });
    expect(settings.retrainMinIntervalMs).toBe(10_000);
    const store = new MemoryAnalyzerStore();
    await store.appendActions(
      population.histories.flatMap((h) =>
        h.actions.map((a) => ({ tenant: h.tenant, userId: h.userId, ...a })),
      ),
      { perUser: settings.maxActionsPerUser, users: settings.maxUsers },
    );
    // Each round reads every history first: the reads count the rounds.
    let rounds = 0;
    let failing = false;
    const histories = store.histories.bind(store);
    store.histories = async () => {
      rounds++;
      if (failing) throw new Error("store down");
      return histories();
    };
    const results: RetrainResult[] = [];
    const observer: AnalyzerObserver = {
      events: () => {},
      offered: () => {},
      learnedState: () => {},
      retrained: (r) => void results.push(r),
    };
    const publisher = new MemoryPublisher();
    const predictor = new NextActionPredictor({ settings, store, publisher, scorer });
    const retrainer = new NextActionRetrainer({ settings, store, publisher, scorer, predictor, observer });

    // Concurrent calls share the running round.
    const [first, shared] = await Promise.all([retrainer.retrain(), retrainer.retrain()]);
    expect(shared).toBe(first);
    expect(first).toMatchObject({ promoted: true, version: "1" });
    expect(rounds).toBe(1);

    // Back to back, and up to a millisecond short of the interval: the last round's report, not a round.
    const again = await retrainer.retrain();
    clock.advance(settings.retrainMinIntervalMs - 1);
    const late = await retrainer.retrain();
    expect(rounds).toBe(1);
    for (const r of [again, late]) {
      expect({ ...r, explanation: "" }).toEqual({ ...first, explanation: "" });
      expect(r.explanation.startsWith(first.explanation)).toBe(true);
    }
    expect(again.explanation).toMatch(
      /not retrained: .*ended 0 ms ago, and rounds are at least 10000 ms apart/,
    );
    expect(late.explanation).toMatch(/ended 9999 ms ago/);
    expect(results).toEqual(["trained", "coalesced", "coalesced"]);
    expect(predictor.current?.version).toBe(1);

    // Once the interval has passed, a call trains again (the model changed: version 1 is now current).
    clock.advance(1);
    const next = await retrainer.retrain();
    expect(rounds).toBe(2);
    expect(next).toMatchObject({ promoted: true, version: "2" });
    expect(next.explanation).not.toMatch(/not retrained/);

    // A failed round does not count: the next call, however soon, tries again.
    clock.advance(settings.retrainMinIntervalMs);
    failing = true;
    await expect(retrainer.retrain()).rejects.toThrow(/store down/);
    failing = false;
    const retried = await retrainer.retrain();
    expect(rounds).toBe(4);
    expect(retried.version).toBe("3");
    expect(results).toEqual(["trained", "coalesced", "coalesced", "trained", "failed", "skipped"]);
  });

  it("retrains on every call with the minimum interval at 0", async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 14));
    const settings = resolveSettings({ clock, retrainMinIntervalMs: 0 });
    const store = new MemoryAnalyzerStore();
    let rounds = 0;
    const histories = store.histories.bind(store);
    store.histories = async () => {
      rounds++;
      return histories();
    };
    const publisher = new MemoryPublisher();
    const predictor = new NextActionPredictor({ settings, store, publisher, scorer });
    const retrainer = new NextActionRetrainer({ settings, store, publisher, scorer, predictor });
    await retrainer.retrain();
    const second = await retrainer.retrain();
    expect(rounds).toBe(2);
    expect(second.explanation).toMatch(/too little data/);
    expect(second.explanation).not.toMatch(/not retrained/);
  });
});
