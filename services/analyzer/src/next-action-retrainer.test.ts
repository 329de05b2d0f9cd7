import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { MemoryPublisher } from "./analyzer.test-util.js";
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

    const first = await retrainer.retrain();
    const second = await retrainer.retrain();
    const adopted = predictor.current?.model;
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
});
