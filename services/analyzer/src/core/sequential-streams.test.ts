import { mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { SequentialStreams, streamOf } from "./sequential-streams.js";

const page = (file: string, n: number) => `t/page/${file}.${n}`;

describe("SequentialStreams", () => {
  it("splits a key into its stream and trailing number, keeping zero padding", () => {
    expect(streamOf("t/page/f.12")).toEqual({ stream: "t/page/f.", index: 12, width: 0 });
    expect(streamOf("t/part/x007")).toEqual({ stream: "t/part/x", index: 7, width: 3 });
    expect(streamOf("t/page/readme")).toBeUndefined();
  });

  it("predicts the keys past a run once it is long enough, with falling confidence", () => {
    const s = new SequentialStreams();
    s.observe(page("a", 0), 0);
    expect(s.predict(page("a", 0), 3, 0)).toEqual([]);
    s.observe(page("a", 1), 1000);
    const p = s.predict(page("a", 1), 3, 1000);
    // As many keys as the run is long (a readahead window that grows), up to the limit.
    expect(p.map((x) => x.key)).toEqual([page("a", 2), page("a", 3)]);
    // No outcome learned yet: the one-and-one prior.
    expect(p[0]?.confidence).toBeCloseTo(0.5);
    s.observe(page("a", 2), 2000);
    s.observe(page("a", 3), 3000);
    const q = s.predict(page("a", 3), 3, 3000);
    expect(q.map((x) => x.key)).toEqual([page("a", 4), page("a", 5), page("a", 6)]);
    expect(q[0]!.confidence).toBeGreaterThan(0.7);
    expect(q[1]!.confidence).toBeCloseTo(q[0]!.confidence ** 2);
    // Zero padding is kept.
    s.observe("t/part/x008", 0);
    s.observe("t/part/x009", 1);
    expect(s.predict("t/part/x009", 1, 1).map((x) => x.key)).toEqual(["t/part/x010"]);
  });

  it("treats parallel reads slightly out of order as one run, and predicts past its furthest key", () => {
    const s = new SequentialStreams();
    for (const [n, t] of [
      [2, 0],
      [0, 0],
      [3, 1],
      [1, 1],
    ] as const)
      s.observe(page("b", n), t);
    expect(s.predict(page("b", 1), 2, 1).map((x) => x.key)).toEqual([page("b", 4), page("b", 5)]);
  });

  it("learns that numbered keys read at random do not continue, and stops predicting them", () => {
    const s = new SequentialStreams();
    const random = mulberry32(7);
    for (let i = 0; i < 2000; i++) s.observe(`t/item/ad${Math.floor(random() * 50)}`, i * 1000);
    expect(s.continuation("t/item")).toBeLessThan(0.3);
    // Scans of another type are learned apart.
    for (let f = 0; f < 20; f++)
      for (let n = 0; n < 10; n++) s.observe(page(`f${f}`, n), 3_000_000 + f * 100 + n);
    expect(s.continuation("t/page")).toBeGreaterThan(0.7);
  });

  it("counts a run that falls idle as ended, and forgets the stream", () => {
    const s = new SequentialStreams({ idleMs: 60_000 });
    for (let f = 0; f < 30; f++) {
      s.observe(page(`g${f}`, 0), f * 120_000);
      s.observe(page(`g${f}`, 1), f * 120_000 + 1);
    }
    // Every run stopped after two keys: each ended idle, none continued.
    expect(s.continuation("t/page")).toBeLessThan(0.1);
    expect(s.size).toBe(1);
    expect(s.predict(page("g29", 1), 3, 29 * 120_000 + 61_002)).toEqual([]);
  });

  it("learns each tenant apart: another tenant's scans change neither its streams nor its confidence", () => {
    const alone = new SequentialStreams();
    const mixed = new SequentialStreams();
    const random = mulberry32(3);
    let t = 0;
    for (let f = 0; f < 40; f++)
      for (let n = 0; n < 4; n++) {
        t += 1000;
        const key = `a/page/f${f}-${n}`;
        alone.observe(key, t);
        mixed.observe(key, t);
        // Another tenant reads the same type at random, interleaved.
        mixed.observe(`b/page/x${Math.floor(random() * 9)}-${Math.floor(random() * 100)}`, t + 500);
      }
    expect(mixed.continuation("a/page")).toBe(alone.continuation("a/page"));
    expect(mixed.continuation("b/page")).not.toBe(alone.continuation("a/page"));
    expect(mixed.predict("a/page/f39-3", 4, t)).toEqual(alone.predict("a/page/f39-3", 4, t));
  });

  it("holds at most its capacity of streams", () => {
    const s = new SequentialStreams({ capacity: 10 });
    for (let f = 0; f < 100; f++) s.observe(page(`h${f}`, 0), f);
    expect(s.size).toBe(10);
  });
});
