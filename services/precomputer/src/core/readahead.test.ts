import { describe, expect, it } from "vitest";
import { harness } from "./fakes.test-util.js";

describe("the readahead schedule", () => {
  it("enqueues the analyzer's readahead keys as predicted work, skipping fresh, unsure and unknown ones", async () => {
    const h = harness();
    h.analyzer.readAhead = [
      { key: "acme/ctr_prediction/ad.4", confidence: 0.9 },
      { key: "globex/roas_prediction/c.12", confidence: 0.8 },
      { key: "acme/ctr_prediction/ad.5", confidence: 0.9 }, // fresh already
      { key: "acme/ctr_prediction/ad.6", confidence: 0.1 }, // below min_confidence (0.2)
      { key: "acme/not_a_type/x.1", confidence: 0.9 },
    ];
    h.cache.expiresAt.set("acme/ctr_prediction/ad.5", h.clock.now() + 60_000);
    const outcome = await h.core.tick("readahead");
    expect(outcome?.ran).toBe(true);
    expect(h.executor.tasks.map((t) => [t.key, t.reason, t.priority])).toEqual([
      ["acme/ctr_prediction/ad.4", "predicted", 5],
      ["globex/roas_prediction/c.12", "predicted", 5],
    ]);
    // Taken once: the next window finds nothing new.
    expect(h.analyzer.readAhead).toEqual([]);
    const runs = await h.core.listRuns("readahead", 5);
    expect(runs[0]?.note).toMatch(/5 readahead keys; 2 enqueued; skipped .*1 fresh/);
    expect(runs[0]?.note).toMatch(/1 low_confidence/);
    expect(runs[0]?.note).toMatch(/1 unknown_task_type/);
    // The threshold it plans by is the floor it names, so the analyzer queues nothing it would drop;
    // an analyzer from before that floor hands the rest out anyway, and they are skipped as above.
    expect(h.analyzer.readAheadFloors).toEqual([0.2]);
  });

  it("asks the run store to keep a one-second schedule's records for an hour, not the store's month", async () => {
    const h = harness();
    const asked: Array<number | undefined> = [];
    const claim = h.runs.claim.bind(h.runs);
    h.runs.claim = async (r) => {
      asked.push(r.keepMs);
      return claim(r);
    };
    await h.core.tick("readahead");
    await h.core.tick("cleanup");
    expect(asked).toEqual([3_600_000, undefined]);
  });
});
