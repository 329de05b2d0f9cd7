import { ManualClock, mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { coreAnalyzer, ingest, query } from "../analyzer.test-util.js";
import type { QueryEventInput } from "./events.js";

const start = Date.UTC(2025, 2, 3);
const hour = 3_600_000;

describe("TopPatterns demand ranking", () => {
  it("recovers the true benefit ranking (rate × compute × miss chance) under a long tail, in bounded memory", async () => {
    const clock = new ManualClock(start);
    const analyzer = coreAnalyzer(clock, { keyCapacity: 200 });
    const random = mulberry32(3);
    // 20 heavy keys with known rates (events/s), types of known cost, and known miss chances.
    const heavy = Array.from({ length: 20 }, (_, i) => ({
      entity: `ad-${i}`,
      type: i % 2 === 0 ? "ctr_prediction" : "video_analysis",
      rate: 2 / (1 + i * 0.35),
      miss: i % 3 === 0 ? 0.9 : i % 3 === 1 ? 0.5 : 0.1,
    }));
    const cost: Record<string, number> = { ctr_prediction: 5, video_analysis: 80 };
    const events: QueryEventInput[] = [];
    const duration = 2 * hour;
    for (const k of heavy) {
      for (let t = start + random() * (1000 / k.rate); t < start + duration; t += 1000 / k.rate) {
        const miss = random() < k.miss;
        events.push(
          query(t, "acme", k.type, k.entity, { outcome: miss ? 3 : 1, computeMs: miss ? cost[k.type]! : 0 }),
        );
      }
    }
    // A long tail of 20,000 keys seen once each: 10x more keys than the capacity.
    for (let i = 0; i < 20_000; i++)
      events.push(
        query(start + random() * duration, "acme", "ctr_prediction", `tail-${i}`, { computeMs: 5 }),
      );
    events.sort((a, b) => a.time!.getTime() - b.time!.getTime());
    await ingest(analyzer, clock, events);

    const truth = heavy
      .map((k) => ({ key: `acme/${k.type}/${k.entity}`, benefit: k.rate * cost[k.type]! * k.miss }))
      .sort((a, b) => b.benefit - a.benefit);
    const top = await analyzer.topPatterns({ limit: 10 });
    expect(top.map((p) => p.key)).toEqual(truth.slice(0, 10).map((t) => t.key));
    // The estimates themselves are close to the truth.
    for (const p of top) {
      const k = heavy.find((h) => p.key.endsWith(`/${h.entity}`))!;
      expect(p.demand).toBeGreaterThan(k.rate * 0.7);
      expect(p.demand).toBeLessThan(k.rate * 1.3);
      expect(Math.abs(p.missProbability - k.miss)).toBeLessThan(0.12);
      expect(p.computeMs).toBeCloseTo(cost[k.type]!, 0);
    }
    // Filters.
    const video = await analyzer.topPatterns({ limit: 3, taskType: "video_analysis" });
    expect(video.map((p) => p.key)).toEqual(
      truth
        .filter((t) => t.key.includes("video"))
        .slice(0, 3)
        .map((t) => t.key),
    );
    expect(await analyzer.topPatterns({ limit: 3, tenant: "other" })).toEqual([]);
    // A limit past the key capacity answers every key the sketch holds; a bad one is refused.
    const all = await analyzer.topPatterns({ limit: 100_000 });
    expect(all.length).toBeLessThanOrEqual(analyzer.settings.keyCapacity);
    expect(all.slice(0, 10).map((p) => p.key)).toEqual(top.map((p) => p.key));
    await expect(analyzer.topPatterns({ limit: -1 })).rejects.toThrow(/limit must be from 0 to 1000000/);
    await expect(analyzer.topPatterns({ limit: 2_000_000 })).rejects.toThrow(/limit must be from 0/);
    const types = await analyzer.typeSummaries();
    const video80 = types.find((t) => t.type === "video_analysis")!;
    expect(video80.computeMsP50).toBeGreaterThan(70);
    expect(video80.computeMsP50).toBeLessThan(90);
  });

  it("decays: a key that went quiet two half-lives ago ranks below a steady one of half its old rate", async () => {
    const clock = new ManualClock(start);
    const analyzer = coreAnalyzer(clock, { keyHalfLifeMs: hour });
    const events: QueryEventInput[] = [];
    for (let t = start; t < start + 6 * hour; t += 1000)
      events.push(query(t, "acme", "ctr_prediction", "was-hot"));
    for (let t = start; t < start + 8 * hour; t += 2000)
      events.push(query(t, "acme", "ctr_prediction", "steady"));
    events.sort((a, b) => a.time!.getTime() - b.time!.getTime());
    await ingest(analyzer, clock, events);
    clock.set(start + 8 * hour);
    const [first, second] = await analyzer.topPatterns({ limit: 2 });
    expect(first!.key).toBe("acme/ctr_prediction/steady");
    expect(first!.demand).toBeCloseTo(0.5, 1);
    // Two half-lives of silence: a quarter of its old rate (1/s, converged after six half-lives).
    expect(second!.demand).toBeCloseTo(0.25, 1);
  });

  it("reports a steady rate truly minutes after the counts began (the decayed count is warm-up corrected)", async () => {
    const clock = new ManualClock(start);
    // Keys decay slower than types here: each is warm-up corrected at its own rate.
    const analyzer = coreAnalyzer(clock, { keyHalfLifeMs: 3 * hour });
    const events: QueryEventInput[] = [];
    // One lookup a second for five minutes, a twelfth of the one-hour half-life.
    for (let t = start; t < start + 5 * 60_000; t += 1000)
      events.push(query(t, "acme", "ctr_prediction", "new"));
    await ingest(analyzer, clock, events);
    const [p] = await analyzer.topPatterns({ limit: 1 });
    // Uncorrected, λ × Σ e^{−λ(now − tᵢ)} would say about 0.057/s here.
    expect(p!.demand).toBeGreaterThan(0.9);
    expect(p!.demand).toBeLessThan(1.1);
    expect(
      (await analyzer.demandOf(["acme/ctr_prediction/new", "acme/ctr_prediction/other"]))[0],
    ).toBeCloseTo(p!.demand, 6);
    const [type] = await analyzer.typeSummaries();
    expect(type!.demand).toBeGreaterThan(0.9);
    expect(type!.demand).toBeLessThan(1.1);
  });
});
