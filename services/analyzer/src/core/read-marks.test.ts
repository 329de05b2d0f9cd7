import { ManualClock } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { coreAnalyzer, ingest, query } from "../analyzer.test-util.js";

const start = Date.UTC(2025, 2, 3);
const hour = 3_600_000;

describe("read marks", () => {
  it("rise with every read of a key and with nothing else, across landmark moves", async () => {
    const clock = new ManualClock(start);
    const analyzer = coreAnalyzer(clock);
    const a = "acme/ctr_prediction/a";
    await ingest(analyzer, clock, [query(start, "acme", "ctr_prediction", "a")]);
    const [first, none] = await analyzer.readMarks([a, "acme/ctr_prediction/never"]);
    expect(first).toBeDefined();
    expect(none).toBeUndefined();
    // Time passes and other keys are read, far enough for the landmark to move (64 half-lives):
    // the decayed demand falls, the mark stays.
    await ingest(analyzer, clock, [query(start + 2 * hour, "acme", "ctr_prediction", "b")]);
    await ingest(analyzer, clock, [query(start + 80 * hour, "acme", "ctr_prediction", "b")]);
    const [still] = await analyzer.readMarks([a]);
    // Equal but for the rescale's rounding (far below what one read adds).
    expect(Math.abs(still! - first!)).toBeLessThan(1e-8);
    // A read of the key itself, however long after, raises it.
    await ingest(analyzer, clock, [query(start + 81 * hour, "acme", "ctr_prediction", "a")]);
    const [after] = await analyzer.readMarks([a]);
    expect(after! - still!).toBeGreaterThan(1e-6);
  });
});
