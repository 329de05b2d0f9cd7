import { describe, expect, it } from "vitest";
import { ReadAheadQueue } from "./read-ahead-queue.js";

describe("ReadAheadQueue", () => {
  it("holds each key once at its highest confidence and hands keys out once, most confident first", () => {
    const q = new ReadAheadQueue(100);
    q.offer([
      { key: "t/p/f.2", confidence: 0.9 },
      { key: "t/p/f.3", confidence: 0.81 },
    ]);
    q.offer([
      { key: "t/p/f.3", confidence: 0.9 },
      { key: "t/p/f.4", confidence: 0.81 },
      { key: "t/p/f.2", confidence: 0.5 },
    ]);
    expect(q.size).toBe(3);
    q.offer([{ key: "t/p/f.9", confidence: 1 }]);
    q.read("t/p/f.9");
    expect(q.take(2)).toEqual([
      { key: "t/p/f.2", confidence: 0.9 },
      { key: "t/p/f.3", confidence: 0.9 },
    ]);
    expect(q.take(10)).toEqual([{ key: "t/p/f.4", confidence: 0.81 }]);
    expect(q.take(10)).toEqual([]);
  });

  it("empties when a take hands out everything, and fills and evicts as before after it", () => {
    const q = new ReadAheadQueue(3);
    q.offer([
      { key: "t/p/a.1", confidence: 0.5 },
      { key: "t/p/a.2", confidence: 0.7 },
    ]);
    expect(q.take(5).map((p) => p.key)).toEqual(["t/p/a.2", "t/p/a.1"]);
    expect(q.size).toBe(0);
    for (let i = 0; i < 5; i++) q.offer([{ key: `t/p/b.${i}`, confidence: 0.8 }]);
    expect(q.size).toBe(3);
    q.read("t/p/b.3");
    expect(q.take(5).map((p) => p.key)).toEqual(["t/p/b.2", "t/p/b.4"]);
    expect(q.take(5)).toEqual([]);
  });

  it("keeps the floor a take names: nothing below it is handed out or queued, until a take names another", () => {
    const q = new ReadAheadQueue(3);
    q.offer([
      { key: "t/p/a.1", confidence: 0.1 },
      { key: "t/p/a.2", confidence: 0.3 },
    ]);
    expect(q.floor).toBe(0);
    // The key below the floor is dropped, not handed out.
    expect(q.take(5, 0, 0.2)).toEqual([{ key: "t/p/a.2", confidence: 0.3 }]);
    expect(q.size).toBe(0);
    expect(q.floor).toBe(0.2);
    // Long shots no longer push out a likely key: the queue holds three.
    q.offer([{ key: "t/p/b.1", confidence: 0.9 }]);
    for (let i = 0; i < 10; i++) q.offer([{ key: `t/p/c.${i}`, confidence: 0.19 }]);
    q.offerKey("t/p/b.2", 0.2);
    expect(q.size).toBe(2);
    // A take without a floor keeps it; one naming another replaces it.
    expect(q.take(5).map((p) => p.key)).toEqual(["t/p/b.1", "t/p/b.2"]);
    q.offerKey("t/p/c.0", 0.19);
    expect(q.size).toBe(0);
    expect(q.take(5, undefined, 0)).toEqual([]);
    q.offerKey("t/p/c.0", 0.19);
    expect(q.take(5)).toEqual([{ key: "t/p/c.0", confidence: 0.19 }]);
    expect(() => q.take(5, undefined, 1.5)).toThrow(RangeError);
    expect(() => q.take(5, undefined, Number.NaN)).toThrow(RangeError);
  });

  it("drops the oldest offers beyond its capacity", () => {
    const q = new ReadAheadQueue(3);
    for (let i = 0; i < 5; i++) q.offer([{ key: `t/p/f.${i}`, confidence: 0.8 }]);
    expect(q.take(10).map((p) => p.key)).toEqual(["t/p/f.2", "t/p/f.3", "t/p/f.4"]);
    expect(() => new ReadAheadQueue(0)).toThrow(/capacity/);
  });

  it("learns how often keys are taken: a longer wait at once, a shorter one by a quarter a take", () => {
    const q = new ReadAheadQueue(10);
    expect(q.periodMs).toBe(0);
    q.take(1, 0);
    expect(q.periodMs).toBe(0);
    q.take(1, 1000);
    q.take(1, 2000);
    expect(q.periodMs).toBe(1000);
    q.take(1, 5000);
    expect(q.periodMs).toBe(3000);
    q.take(1, 6000);
    expect(q.periodMs).toBe(2500);
    q.take(1);
    expect(q.periodMs).toBe(2500);
  });
});
