import { isResourceExhausted } from "@prescient/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BatchPolicy, BatchQueue, type QueueItem } from "./batch-queue.js";

const policy = (p?: Partial<BatchPolicy>): BatchPolicy => ({
  maxBatchSize: 8,
  dynamicBatching: true,
  preferredBatchSizes: [],
  maxQueueDelayMs: 10,
  maxQueueSize: 100,
  priorityLevels: 3,
  ...p,
});

let seq = 0;
type Item = QueueItem & { id: number };
const item = (p?: Partial<Item>): Item => ({
  id: seq++,
  rows: 1,
  level: 2,
  enqueuedAt: 0,
  deadlineMs: undefined,
  shapeKey: "8",
  ...p,
});
const ids = (d: ReturnType<BatchQueue<Item>["decide"]>) => (d.kind === "run" ? d.batch.map((i) => i.id) : d);

describe("BatchQueue", () => {
  it("waits for the oldest request's delay, then runs everything that fits, in arrival order", () => {
    const q = new BatchQueue<Item>(policy());
    const a = item({ enqueuedAt: 0 });
    const b = item({ enqueuedAt: 3, rows: 3 });
    q.push(a);
    q.push(b);
    expect(q.decide(5)).toEqual({ kind: "wait", untilMs: 10 });
    expect(ids(q.decide(10))).toEqual([a.id, b.id]);
    expect(q.decide(10)).toEqual({ kind: "idle" });
  });

  it("runs at once when the batch is full, leaving what does not fit for the next", () => {
    const q = new BatchQueue<Item>(policy());
    const [a, b, c] = [item({ rows: 4 }), item({ rows: 4 }), item({ rows: 2 })];
    for (const i of [a, b, c]) q.push(i);
    expect(ids(q.decide(0))).toEqual([a.id, b.id]);
    expect(q.size).toBe(1);
    // A multi-row request that does not fit ends the batch rather than being skipped, so big requests never starve.
    const q2 = new BatchQueue<Item>(policy());
    const [d, e, f] = [item({ rows: 5 }), item({ rows: 5 }), item({ rows: 1 })];
    for (const i of [d, e, f]) q2.push(i);
    expect(ids(q2.decide(0))).toEqual([d.id]);
  });

  it("runs a preferred size at once", () => {
    const q = new BatchQueue<Item>(policy({ preferredBatchSizes: [2, 4] }));
    const items = [item(), item(), item()];
    for (const i of items) q.push(i);
    expect(ids(q.decide(0))).toEqual([items[0]!.id, items[1]!.id]);
    expect(q.decide(0)).toEqual({ kind: "wait", untilMs: 10 });
  });

  it("puts higher priority levels first", () => {
    const q = new BatchQueue<Item>(policy({ maxBatchSize: 2 }));
    const low = item({ level: 2 });
    const mid = item({ level: 1 });
    const high = item({ level: 0 });
    for (const i of [low, mid, high]) q.push(i);
    expect(ids(q.decide(0))).toEqual([high.id, mid.id]);
    expect(ids(q.decide(100))).toEqual([low.id]);
  });

  it("counts the delay from the oldest request even when a newer one has higher priority", () => {
    const q = new BatchQueue<Item>(policy());
    q.push(item({ level: 2, enqueuedAt: 0 }));
    q.push(item({ level: 0, enqueuedAt: 8 }));
    expect(q.decide(9)).toEqual({ kind: "wait", untilMs: 10 });
    expect(q.decide(10).kind).toBe("run");
  });

  it("keeps requests with other non-batch dimensions for a later batch", () => {
    const q = new BatchQueue<Item>(policy());
    const a = item({ shapeKey: "3" });
    const b = item({ shapeKey: "4" });
    const c = item({ shapeKey: "3" });
    for (const i of [a, b, c]) q.push(i);
    expect(ids(q.decide(10))).toEqual([a.id, c.id]);
    expect(ids(q.decide(10))).toEqual([b.id]);
  });

  it("answers RESOURCE_EXHAUSTED when full", () => {
    const q = new BatchQueue<Item>(policy({ maxQueueSize: 2 }));
    q.push(item());
    q.push(item());
    let error: unknown;
    try {
      q.push(item());
    } catch (e) {
      error = e;
    }
    expect(isResourceExhausted(error)).toBe(true);
    expect(q.size).toBe(2);
  });

  it("takes out expired and removed requests", () => {
    const q = new BatchQueue<Item>(policy());
    const a = item({ deadlineMs: 5 });
    const b = item({ deadlineMs: 50 });
    const c = item();
    for (const i of [a, b, c]) q.push(i);
    expect(q.nextDeadline()).toBe(5);
    expect(q.takeExpired(6).map((i) => i.id)).toEqual([a.id]);
    expect(q.remove(c)).toBe(true);
    expect(q.remove(c)).toBe(false);
    expect(q.size).toBe(1);
    expect(q.nextDeadline()).toBe(50);
  });

  it("with batching off runs one request per batch, highest priority first", () => {
    const q = new BatchQueue<Item>(policy({ dynamicBatching: false }));
    const a = item({ level: 2 });
    const b = item({ level: 0 });
    q.push(a);
    q.push(b);
    expect(ids(q.decide(0))).toEqual([b.id]);
    expect(ids(q.decide(0))).toEqual([a.id]);
  });

  it("flushes without waiting when draining", () => {
    const q = new BatchQueue<Item>(policy());
    q.push(item());
    expect(q.decide(0, true).kind).toBe("run");
  });
});

/**
 * The queue against a plain model, over random pushes, removals, expiries and
 * decisions: a list in (level, arrival) order, searched afresh on every call.
 * It holds the kept earliest deadline and the in-place walk of the levels to
 * what a fresh scan of the whole queue answers.
 */
describe("BatchQueue against a plain model", () => {
  it("answers every decision, expiry and next deadline as a fresh scan would", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant("push" as const),
              rows: fc.integer({ min: 1, max: 5 }),
              level: fc.integer({ min: 0, max: 2 }),
              deadline: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
              shape: fc.constantFrom("8", "4"),
            }),
            fc.record({ op: fc.constant("remove" as const), pick: fc.nat() }),
            fc.record({ op: fc.constant("expire" as const) }),
            fc.record({ op: fc.constant("decide" as const), flush: fc.boolean() }),
            fc.record({ op: fc.constant("tick" as const), by: fc.integer({ min: 1, max: 8 }) }),
          ),
          { maxLength: 120 },
        ),
        fc.constantFrom<number[]>([], [4], [2, 6]),
        (ops, preferredBatchSizes) => {
          const p = policy({ preferredBatchSizes, maxQueueSize: 1000 });
          const q = new BatchQueue<Item>(p);
          let model: Item[] = [];
          let now = 0;
          const ordered = () => [...model].sort((a, b) => a.level - b.level || a.id - b.id);
          const earliest = () =>
            model.reduce<number | undefined>(
              (m, i) =>
                i.deadlineMs === undefined ? m : m === undefined ? i.deadlineMs : Math.min(m, i.deadlineMs),
              undefined,
            );
          for (const o of ops) {
            if (o.op === "push") {
              const it = item({
                rows: o.rows,
                level: o.level,
                enqueuedAt: now,
                deadlineMs: o.deadline,
                shapeKey: o.shape,
              });
              q.push(it);
              model.push(it);
            } else if (o.op === "remove" && model.length > 0) {
              const it = model[o.pick % model.length]!;
              expect(q.remove(it)).toBe(true);
              model = model.filter((x) => x !== it);
            } else if (o.op === "expire") {
              const want = ordered().filter((i) => i.deadlineMs !== undefined && i.deadlineMs <= now);
              expect(new Set(q.takeExpired(now))).toEqual(new Set(want));
              model = model.filter((i) => !want.includes(i));
            } else if (o.op === "decide") {
              const d = q.decide(now, o.flush);
              const all = ordered();
              if (all.length === 0) expect(d).toEqual({ kind: "idle" });
              else {
                const head = all[0]!;
                const batch: Item[] = [];
                let rows = 0;
                let full = false;
                let preferredEnd = 0;
                for (const i of all) {
                  if (i.shapeKey !== head.shapeKey) continue;
                  if (rows + i.rows > p.maxBatchSize) {
                    full = true;
                    break;
                  }
                  batch.push(i);
                  rows += i.rows;
                  if (preferredBatchSizes.includes(rows)) preferredEnd = batch.length;
                }
                const due = Math.min(...all.map((i) => i.enqueuedAt)) + p.maxQueueDelayMs;
                const want =
                  full || rows === p.maxBatchSize
                    ? batch
                    : preferredEnd > 0
                      ? batch.slice(0, preferredEnd)
                      : o.flush || due <= now
                        ? batch
                        : undefined;
                if (want === undefined) expect(d).toEqual({ kind: "wait", untilMs: due });
                else {
                  expect(d).toEqual({ kind: "run", batch: want });
                  model = model.filter((i) => !want.includes(i));
                }
              }
            } else if (o.op === "tick") now += o.by;
            expect(q.size).toBe(model.length);
            expect(q.nextDeadline()).toBe(earliest());
          }
        },
      ),
      { numRuns: 300, seed: 20261206 },
    );
  });
});
