import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ManualClock, mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import type { Analyzer } from "../analyzer.js";
import { coreAnalyzer, ingest, query } from "../analyzer.test-util.js";
import type { QueryEventInput } from "./events.js";

const gap = 30 * 60_000;

/** Ten files scanned page by page from t0: they teach that page scans continue. */
function tenScannedFiles(t0: number): QueryEventInput[] {
  const events: QueryEventInput[] = [];
  for (let f = 0; f < 10; f++)
    for (let p = 0; p < 8; p++) events.push(query(t0 + f * 10_000 + p * 1000, "acme", "page", `f${f}.${p}`));
  return events;
}

/** Held-out transitions (consecutive distinct keys of one user within the session gap). */
function transitions(events: readonly QueryEventInput[]): Array<[string, string]> {
  const last = new Map<string, { key: string; time: number }>();
  const out: Array<[string, string]> = [];
  for (const e of events) {
    const key = `${e.tenant}/${e.taskType}/${e.entityId}`;
    const t = e.time!.getTime();
    const prev = last.get(e.userId);
    if (prev !== undefined && prev.key !== key && t - prev.time <= gap) out.push([prev.key, key]);
    last.set(e.userId, { key, time: t });
  }
  return out;
}

/** Precision of the top-k successors (a hit when the true next key is among them) and coverage. */
async function evaluate(analyzer: Analyzer, held: Array<[string, string]>, k: number) {
  let predicted = 0;
  let hits = 0;
  for (const [from, to] of held) {
    const next = await analyzer.predictNextKeys(from, k);
    if (next.length === 0) continue;
    predicted++;
    if (next.some((n) => n.key === to)) hits++;
  }
  return {
    precision: predicted === 0 ? 0 : hits / predicted,
    coverage: held.length === 0 ? 0 : predicted / held.length,
  };
}

describe("PredictNextKeys", () => {
  it("learns successor structure of synthetic access sequences (precision near the 70% a perfect predictor gets)", async () => {
    const random = mulberry32(11);
    const start = Date.UTC(2025, 0, 6);
    const pages = 100;
    // Each page is followed by its fixed favourite 70% of the time, a fixed second 20%, anything 10%.
    const next = (p: number): number => {
      const u = random();
      return u < 0.7 ? (p * 7 + 1) % pages : u < 0.9 ? (p * 13 + 5) % pages : Math.floor(random() * pages);
    };
    const events: QueryEventInput[] = [];
    for (let u = 0; u < 200; u++) {
      let t = start + Math.floor(random() * 3_600_000);
      let p = Math.floor(random() * pages);
      for (let i = 0; i < 40; i++) {
        events.push(query(t, "acme", "page_render", `p${p}`, { userId: `u${u}` }));
        p = next(p);
        t += 5_000 + Math.floor(random() * 20_000);
      }
    }
    events.sort((a, b) => a.time!.getTime() - b.time!.getTime());
    const cut = Math.floor(events.length * 0.8);
    const clock = new ManualClock(start);
    const analyzer = coreAnalyzer(clock);
    await ingest(analyzer, clock, events.slice(0, cut));
    const held = transitions(events).slice(-Math.floor((events.length - cut) * 0.9));
    const top1 = await evaluate(analyzer, held, 1);
    const top2 = await evaluate(analyzer, held, 2);
    console.log(
      `synthetic next-key: top-1 precision ${top1.precision.toFixed(3)}, top-2 ${top2.precision.toFixed(3)}, coverage ${top1.coverage.toFixed(3)}`,
    );
    expect(top1.precision).toBeGreaterThan(0.62);
    expect(top2.precision).toBeGreaterThan(0.82);
    expect(top1.coverage).toBeGreaterThan(0.95);
    const [best] = await analyzer.predictNextKeys("acme/page_render/p3", 1);
    expect(best!.key).toBe("acme/page_render/p22");
    expect(best!.confidence).toBeGreaterThan(0.5);
  });

  // CacheLib's block trace, kept in the repository with its source and licence (test/traces/README.md).
  const tracePath = fileURLToPath(new URL("../../../../test/traces/block_traces_1.csv", import.meta.url));

  it("predicts next blocks on a real block-storage trace better than popularity", async () => {
    const lines = readFileSync(tracePath, "utf8").trim().split("\n");
    const header = lines[0]!.split(",");
    const col = (name: string): number => header.indexOf(name);
    const events: QueryEventInput[] = [];
    for (const line of lines.slice(1)) {
      const f = line.split(",");
      if (!f[col("op_name")]!.startsWith("get")) continue;
      events.push(
        query(Number(f[col("op_time")]) * 1000, "trace", "block_read", f[col("block_id")]!, {
          userId: f[col("user_name")]!,
        }),
      );
    }
    events.sort((a, b) => a.time!.getTime() - b.time!.getTime());
    // Prequential ("test, then train") as a prefetcher meets it: before each read, predict from
    // everything seen so far; after a warm-up of the first 30%, score the prediction; then learn it.
    const clock = new ManualClock(events[0]!.time!.getTime());
    const analyzer = coreAnalyzer(clock);
    const warmUp = Math.floor(events.length * 0.3);
    const last = new Map<string, { key: string; time: number }>();
    const counts = new Map<string, number>();
    let held = 0;
    let predicted = 0;
    let hits = 0;
    let popularHits = 0;
    for (const [i, e] of events.entries()) {
      const key = `trace/block_read/${e.entityId}`;
      const t = e.time!.getTime();
      const prev = last.get(e.userId);
      if (i >= warmUp && prev !== undefined && prev.key !== key && t - prev.time <= gap) {
        held++;
        const next = await analyzer.predictNextKeys(prev.key, 3);
        if (next.length > 0) predicted++;
        if (next.some((n) => n.key === key)) hits++;
        const popular = [...counts]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([k]) => k);
        if (popular.includes(key)) popularHits++;
      }
      last.set(e.userId, { key, time: t });
      counts.set(key, (counts.get(key) ?? 0) + 1);
      await ingest(analyzer, clock, [e]);
    }
    const precision = predicted === 0 ? 0 : hits / predicted;
    console.log(
      `block trace: ${events.length} reads, ${held} scored transitions; top-3 precision ${precision.toFixed(3)}, coverage ${(predicted / held).toFixed(3)}, hit rate ${(hits / held).toFixed(3)}; popularity top-3 hit rate ${(popularHits / held).toFixed(3)}`,
    );
    expect(held).toBeGreaterThan(20);
    expect(hits / held).toBeGreaterThan(popularHits / held);
  });

  it("predicts the pages past a scan no successor count has seen, and merges them with learned successors", async () => {
    const clock = new ManualClock(Date.parse("2024-05-01T00:00:00Z"));
    const analyzer = coreAnalyzer(clock);
    const t0 = clock.now();
    const events = tenScannedFiles(t0);
    // A new file, its first two pages, and a learned successor of its second page.
    events.push(query(t0 + 200_000, "acme", "page", "new.0", { userId: "u" }));
    events.push(query(t0 + 201_000, "acme", "page", "new.1", { userId: "u" }));
    events.push(query(t0 + 202_000, "acme", "dashboard", "u", { userId: "u" }));
    await ingest(analyzer, clock, events);
    const next = await analyzer.predictNextKeys("acme/page/new.1", 3);
    // The one successor seen (confidence 1) first, then the pages by falling confidence.
    expect(next.map((n) => n.key)).toEqual(["acme/dashboard/u", "acme/page/new.2", "acme/page/new.3"]);
    expect(next[1]!.confidence).toBeGreaterThan(0.8);
    expect(next[2]!.confidence).toBeCloseTo(next[1]!.confidence ** 2);
    // A key that ends in no number is predicted from successors alone.
    expect(await analyzer.predictNextKeys("acme/dashboard/u", 3)).toEqual([]);
  });

  it("queues the keys past runs that recorded reads move forward, for TakeReadAhead to hand out once", async () => {
    const clock = new ManualClock(Date.parse("2024-05-01T00:00:00Z"));
    const analyzer = coreAnalyzer(clock);
    const t0 = clock.now();
    const events = tenScannedFiles(t0);
    await ingest(analyzer, clock, events);
    analyzer.takeReadAhead(100_000);
    await ingest(analyzer, clock, [
      query(t0 + 200_000, "acme", "page", "new.0"),
      query(t0 + 201_000, "acme", "page", "new.1"),
      query(t0 + 202_000, "acme", "page", "new.2"),
    ]);
    const ahead = analyzer.takeReadAhead(0);
    expect(ahead.map((k) => k.key)).toEqual(["acme/page/new.3", "acme/page/new.4", "acme/page/new.5"]);

    // A run that pauses longer than streamIdleMs has ended: its next page starts a new one, and
    // predicts nothing (a time-scaled mesh shortens this pause with every other duration).
    const paused = async (streamIdleMs: number): Promise<string[]> => {
      const c = new ManualClock(t0);
      const a = coreAnalyzer(c, { streamIdleMs });
      await ingest(a, c, tenScannedFiles(t0));
      a.takeReadAhead(100_000);
      await ingest(a, c, [
        query(t0 + 200_000, "acme", "page", "p.0"),
        query(t0 + 201_000, "acme", "page", "p.1"),
      ]);
      a.takeReadAhead(100_000);
      await ingest(a, c, [query(t0 + 231_000, "acme", "page", "p.2")]);
      return a.takeReadAhead(0).map((k) => k.key);
    };
    const continued = await paused(60_000);
    expect(continued.length).toBeGreaterThan(0);
    for (const k of continued) expect(Number(k.split(".").at(-1))).toBeGreaterThan(2);
    expect(await paused(20_000)).toEqual([]);
    expect(ahead[0]!.confidence).toBeGreaterThan(0.8);
    expect(analyzer.takeReadAhead(10)).toEqual([]);
    expect(() => analyzer.takeReadAhead(-1)).toThrow(/limit must be from 0 to 100000/);
  });
});
