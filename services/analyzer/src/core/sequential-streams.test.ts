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

  it("learns how far runs of a type go: nothing is offered past the end of fixed-size chunks", () => {
    const s = new SequentialStreams();
    // Chunks of 8 pages, each read through once, a page a second, one after another.
    let t = 0;
    const read = (key: string): void => {
      t += 1000;
      s.observe(key, t);
    };
    for (let c = 0; c < 50; c++) for (let n = 0; n < 8; n++) read(page(`c${c}`, n));
    for (let n = 0; n < 5; n++) read(page("last", n));
    const p = s.continuation("t/page");
    expect(p).toBeGreaterThan(0.8); // most reads continue a run: a share per read cannot see the end
    const offered = s.predict(page("last", 4), 8, t);
    expect(offered.map((x) => x.key).slice(0, 3)).toEqual([
      page("last", 5),
      page("last", 6),
      page("last", 7),
    ]);
    for (const x of offered.slice(0, 3)) expect(x.confidence).toBeGreaterThan(0.95);
    // Past the chunk's end: no run ever went there.
    for (const x of offered.slice(3)) expect(x.confidence).toBeLessThan(0.02);
  });

  it("holds at most its capacity of streams", () => {
    const s = new SequentialStreams({ capacity: 10 });
    for (let f = 0; f < 100; f++) s.observe(page(`h${f}`, 0), f);
    expect(s.size).toBe(10);
  });
});

describe("SequentialStreams: keys that can be ready in time", () => {
  const scan = (streams: SequentialStreams, reads: number, msPerKey: number, perInstant = 1): void => {
    for (let i = 0; i < reads; i++) streams.observe(`t/page/f-${i}`, Math.floor(i / perInstant) * msPerKey);
  };

  it("predicts a scan from the first key it can still compute in time, the one before at a discount", () => {
    const streams = new SequentialStreams();
    scan(streams, 5, 1000); // keys 0..4 at 0..4 s
    const p = streams.continuation("t/page");
    // Offered at 4.25 s, ready 1.1 s later: key 5 comes at 5 s, key 6 at 6 s.
    const late = streams.predict("t/page/f-4", 4, 4250, 1100);
    expect(late.map((x) => x.key)).toEqual([
      "t/page/f-5",
      "t/page/f-6",
      "t/page/f-7",
      "t/page/f-8",
      "t/page/f-9",
    ]);
    expect(late[0]?.confidence).toBeCloseTo(p * 0.65, 10);
    expect(late[1]?.confidence).toBeCloseTo(p ** 2, 10);
    // Without a lead, as before: the next keys, most likely first.
    const now = streams.predict("t/page/f-4", 4, 4000);
    expect(now.map((x) => x.key)).toEqual(["t/page/f-5", "t/page/f-6", "t/page/f-7", "t/page/f-8"]);
    expect(now.map((x) => x.confidence)).toEqual([p, p ** 2, p ** 3, p ** 4]);
  });

  it("paces a run by its advances: pages read several at an instant", () => {
    const streams = new SequentialStreams();
    scan(streams, 24, 3000, 8); // pages 0..7 at 0 s, 8..15 at 3 s, 16..23 at 6 s: 8 pages per 3 s
    const p = streams.continuation("t/page");
    // Ready 1.5 s after 6.25 s: the next advance (pages 24..31 at 9 s) is in time.
    const near = streams.predict("t/page/f-23", 4, 6250, 1500);
    expect(near.map((x) => x.key)).toEqual(["t/page/f-24", "t/page/f-25", "t/page/f-26", "t/page/f-27"]);
    expect(near[0]?.confidence).toBeCloseTo(p, 10);
    // Ready at 10.25 s: that advance is 1.25 s late (of a 3 s gap), the one after (32.. at 12 s) in time.
    const far = streams.predict("t/page/f-23", 4, 6250, 4000);
    expect(far[0]).toEqual({ key: "t/page/f-24", confidence: expect.closeTo(p * (1 - 1250 / 3000), 10) });
    expect(far.find((x) => x.key === "t/page/f-32")?.confidence).toBeCloseTo(p ** 9, 10);
    expect(far.at(-1)?.key).toBe("t/page/f-35");
  });

  it("predicts a burst read at one instant from the next key, and nothing past maxLead", () => {
    const burst = new SequentialStreams();
    scan(burst, 8, 0);
    expect(burst.predict("t/page/f-7", 2, 250, 1100).map((x) => x.key)).toEqual(["t/page/f-8", "t/page/f-9"]);
    const fast = new SequentialStreams({ maxLead: 100 });
    scan(fast, 50, 1); // a key a millisecond
    expect(fast.predict("t/page/f-49", 4, 50, 1000)).toEqual([]);
    const within = new SequentialStreams();
    scan(within, 50, 1);
    expect(within.predict("t/page/f-49", 1, 50, 1000)[0]?.key).toBe("t/page/f-1050");
  });

  it("learns each tenant and type's compute time from what reads report", () => {
    const streams = new SequentialStreams();
    expect(streams.computeMs("t/page")).toBe(0);
    streams.observe("t/page/a-1", 0, 100);
    streams.observe("t/page/a-2", 1, 200);
    streams.observe("u/page/a-1", 2, 900);
    expect(streams.computeMs("t/page")).toBeCloseTo(125, 10);
    expect(streams.computeMs("u/page")).toBe(900);
  });
});
