import { ManualClock } from "@prescient/core";
import { countFailures } from "@prescient/kit";
import { metricValue } from "@prescient/kit/testing";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { Analyzer } from "../analyzer.js";
import { MemoryPublisher, query } from "../analyzer.test-util.js";
import { emptyIngestResult } from "../core/events.js";
import type { NextActionScorer } from "../model/ports.js";
import { syntheticPopulation } from "../next-action/synthetic-population.test-util.js";
import type { ActionLimits, LearningRecord, UserHistory } from "../store/analyzer-store.js";
import { MemoryAnalyzerStore } from "../store/memory-store.js";
import { AnalyzerMetrics } from "./metrics.js";

/** A memory store that fails like an unreachable Redis while `down` is set. */
class FlakyStore extends MemoryAnalyzerStore {
  down = false;

  override applyCounters(...args: Parameters<MemoryAnalyzerStore["applyCounters"]>): Promise<void> {
    if (this.down) return Promise.reject(new Error("connect ECONNREFUSED"));
    return super.applyCounters(...args);
  }

  override histories(): Promise<UserHistory[]> {
    if (this.down) return Promise.reject(new Error("connect ECONNREFUSED"));
    return super.histories();
  }

  override putLearning(...args: Parameters<MemoryAnalyzerStore["putLearning"]>): Promise<void> {
    if (this.down) return Promise.reject(new Error("connect ECONNREFUSED"));
    return super.putLearning(...args);
  }

  /** Hands out each learned-state record twice, as a Redis HSCAN may while the hash is rehashed. */
  twice = false;

  override async *learningRecords(): AsyncGenerator<LearningRecord> {
    for await (const r of super.learningRecords()) {
      yield r;
      if (this.twice) yield r;
    }
  }
}

const scorer: NextActionScorer = {
  description: "none",
  score: async () => {
    throw new Error("not scored here");
  },
  modelPublished: async () => {},
  close: async () => {},
};

const start = Date.UTC(2025, 0, 6);

function observed(store: FlakyStore, clock: ManualClock) {
  const registry = new Registry();
  const metrics = AnalyzerMetrics.for(registry);
  const analyzer = new Analyzer(
    {
      store: countFailures(store, metrics.onStoreError),
      publisher: new MemoryPublisher(),
      scorer,
      observer: metrics,
    },
    { clock },
  );
  metrics.watch(analyzer);
  return { analyzer, scrape: () => registry.metrics() };
}

describe("analyzer metrics", () => {
  it("counts events by kind and outcome, and store failures by operation", async () => {
    const clock = new ManualClock(start);
    const store = new FlakyStore();
    const { analyzer, scrape } = observed(store, clock);
    const at = start - 1000;

    await analyzer.recordQueries(
      [
        query(at, "acme", "ctr_prediction", "ad-1", { userId: "u1" }),
        query(at, "acme", "ctr_prediction", "ad-2", { userId: "u1" }),
        query(at, "acme", "ctr_prediction", "ad-3", { userId: "u1" }),
        query(at, "", "ctr_prediction", "ad-4"),
      ],
      emptyIngestResult(),
    );
    await analyzer.recordActions(
      [
        { time: new Date(at), tenant: "acme", userId: "u1", action: "login", attributes: {} },
        { time: new Date(at), tenant: "acme", userId: "u1", action: "search", attributes: {} },
        { time: new Date(at), tenant: "acme", userId: "", action: "search", attributes: {} },
      ],
      emptyIngestResult(),
    );
    analyzer.recordEvents(
      [
        { time: new Date(at), tenant: "acme", type: "campaign_created", entityId: "c1", userId: "u1" },
        { time: new Date(at), tenant: "acme", type: "", entityId: "c1", userId: "u1" },
      ],
      emptyIngestResult(),
    );
    store.down = true;
    await expect(
      analyzer.recordQueries(
        [query(at, "acme", "ctr_prediction", "ad-5"), query(at, "acme", "ctr_prediction", "ad-6")],
        emptyIngestResult(),
      ),
    ).rejects.toThrow(/ECONNREFUSED/);

    const text = await scrape();
    const events = (kind: string, outcome: string) =>
      metricValue(text, "prescient_analyzer_events_total", { kind, outcome });
    expect(events("query", "accepted")).toBe(3);
    expect(events("query", "rejected")).toBe(1);
    expect(events("query", "dropped")).toBe(2);
    expect(events("action", "accepted")).toBe(2);
    expect(events("action", "rejected")).toBe(1);
    expect(events("domain_event", "accepted")).toBe(1);
    expect(events("domain_event", "rejected")).toBe(1);
    expect(metricValue(text, "prescient_analyzer_store_errors_total", { operation: "applyCounters" })).toBe(
      1,
    );
    expect(metricValue(text, "prescient_analyzer_store_errors_total", { operation: "appendActions" })).toBe(
      undefined,
    );
    // u1's reads are one session's sequence; its relation to the ads it read is held.
    expect(metricValue(text, "prescient_analyzer_sketch_entries", { sketch: "sequences" })).toBeGreaterThan(
      0,
    );
    expect(metricValue(text, "prescient_analyzer_sketch_entries", { sketch: "relation_subjects" })).toBe(
      analyzer.relationSubjectCount(),
    );
    const sketches = analyzer.sketchSizes();
    expect(sketches).toHaveLength(8);
    for (const [sketch, n] of sketches)
      expect(metricValue(text, "prescient_analyzer_sketch_entries", { sketch })).toBe(n);
  });

  it("counts learned-state records saved, restored and ignored, and failed saves as store errors", async () => {
    const clock = new ManualClock(start);
    const store = new FlakyStore();
    const first = observed(store, clock);
    await first.analyzer.start();
    const created = (tenant: string) => ({
      time: new Date(start - 1000),
      tenant,
      type: "campaign_created",
      entityId: "c1",
      userId: "u1",
    });
    first.analyzer.recordEvents([created("acme"), created("globex")], emptyIngestResult());
    expect(await first.analyzer.saveLearning()).toBe(2);
    const records = async (scrape: () => Promise<string>, outcome: string) =>
      metricValue(await scrape(), "prescient_analyzer_learned_state_records_total", { outcome });
    expect(await records(first.scrape, "saved")).toBe(2);

    store.down = true;
    first.analyzer.recordEvents([created("acme")], emptyIngestResult());
    await expect(first.analyzer.saveLearning()).rejects.toThrow(/ECONNREFUSED/);
    expect(await records(first.scrape, "saved")).toBe(2);
    expect(
      metricValue(await first.scrape(), "prescient_analyzer_store_errors_total", {
        operation: "putLearning",
      }),
    ).toBe(1);
    store.down = false;

    await store.putLearning({ tenant: "initech", savedAt: start, body: "{" });
    const second = observed(store, clock);
    await second.analyzer.start();
    expect(await records(second.scrape, "restored")).toBe(2);
    expect(await records(second.scrape, "ignored")).toBe(1);

    // A record handed out twice is restored, and counted, once.
    store.twice = true;
    const third = observed(store, clock);
    await third.analyzer.start();
    expect(await records(third.scrape, "restored")).toBe(2);
    expect(await records(third.scrape, "ignored")).toBe(1);
  });

  it("counts retrains by result and predictions by source", async () => {
    const clock = new ManualClock(start + 8 * 86_400_000);
    const store = new FlakyStore();
    const { analyzer, scrape } = observed(store, clock);

    await analyzer.retrainNextAction(); // nothing recorded yet: too little data
    const population = syntheticPopulation({ users: 80, sessionsPerUser: 6, start, days: 7, seed: 11 });
    const limits: ActionLimits = { perUser: 1000, users: 10_000 };
    await store.appendActions(
      population.histories.flatMap((h) =>
        h.actions.map((a) => ({ tenant: h.tenant, userId: h.userId, ...a })),
      ),
      limits,
    );
    await analyzer.retrainNextAction(); // within the minimum interval: the last round's report
    clock.advance(analyzer.settings.retrainMinIntervalMs);
    await analyzer.retrainNextAction(); // trains a candidate
    clock.advance(analyzer.settings.retrainMinIntervalMs);
    store.down = true;
    await expect(analyzer.retrainNextAction()).rejects.toThrow(/ECONNREFUSED/);
    store.down = false;

    const user = population.histories[0]!;
    // The scorer fails, so the prediction falls back to the Markov chain (or frequencies).
    const p = await analyzer.predictNextActions({ tenant: user.tenant, userId: user.userId, limit: 3 });
    const fresh = await analyzer.predictNextActions({ tenant: user.tenant, userId: "nobody", limit: 2 });
    expect(fresh.source).toBe("frequency");

    const text = await scrape();
    const retrains = (result: string) => metricValue(text, "prescient_analyzer_retrain_total", { result });
    expect([retrains("skipped"), retrains("coalesced"), retrains("trained"), retrains("failed")]).toEqual([
      1, 1, 1, 1,
    ]);
    const bySource = (source: string) =>
      metricValue(text, "prescient_analyzer_predictions_total", { source });
    expect(bySource(p.source)).toBe(p.actions.length + (p.source === "frequency" ? 2 : 0));
    expect(bySource("frequency")).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, "prescient_analyzer_store_errors_total", { operation: "histories" })).toBe(1);
  });
});
