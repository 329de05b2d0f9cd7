import { describe, expect, it } from "vitest";
import { harness } from "./fakes.test-util.js";
import { FreshPeekGate } from "./fresh-peek-gate.js";
import type { PrecomputerOptions } from "./precomputer-deps.js";

const video = (tenant: string, i: number) => ({
  type: "video_uploaded",
  tenant,
  entityId: `vid-${i}`,
  userId: "u1",
  features: { duration_s: 31 },
  attributes: {},
});

const videos = (tenant: string, from: number, n: number) =>
  Array.from({ length: n }, (_, k) => video(tenant, from + k));

/** A harness whose cache records the keys each freshness lookup asked for. */
function counted(core?: Partial<PrecomputerOptions>) {
  const h = harness(core === undefined ? {} : { core });
  const asked: string[] = [];
  const expiries = h.cache.expiries.bind(h.cache);
  h.cache.expiries = async (keys: readonly string[]) => {
    asked.push(...keys);
    return expiries(keys);
  };
  return { ...h, asked };
}

/** Asks the gate about one key of kind (t, e, x) per call, `calls` times. */
function decisions(gate: FreshPeekGate, calls: number, tenant = "t", eventType = "e", taskType = "x") {
  return Array.from(
    { length: calls },
    () => gate.shouldLook(gate.kindsOf(tenant, eventType, true), taskType, gate.beginCall()) > 0,
  );
}

function learn(gate: FreshPeekGate, n: number, fresh: (i: number) => boolean, tenant = "t", eventType = "e") {
  const kinds = gate.kindsOf(tenant, eventType, true);
  for (let i = 0; i < n; i++) gate.looked(kinds, "x", fresh(i), 1);
}

describe("FreshPeekGate", () => {
  it("looks every key up until a kind has shown itself almost never fresh, then in one call in sampleEvery", () => {
    const gate = new FreshPeekGate({ minFreshRate: 0.02, sampleEvery: 4, window: 1024 });
    // Fresh + 3 finds' margin must fall below 2% of the looked-up keys: 150 looked, none fresh, is not yet enough.
    learn(gate, 150, () => false);
    expect(decisions(gate, 3)).toEqual([true, true, true]);
    learn(gate, 1, () => false);
    expect(decisions(gate, 8)).toEqual([false, false, false, true, false, false, false, true]);
    // Every key of the kind in one call gets the call's answer.
    const kinds = gate.kindsOf("t", "e", false);
    const call = gate.beginCall();
    expect([1, 2, 3].map(() => gate.shouldLook(kinds, "x", call))).toEqual([0, 0, 0]);
    // Other task types of the event, other events and other tenants are their own kinds.
    expect(gate.shouldLook(kinds, "y", call)).toBe(1);
    expect(decisions(gate, 1, "t", "other")).toEqual([true]);
    expect(decisions(gate, 1, "u")).toEqual([true]);
  });

  it("looks everything up again once the sampled keys find fresh results", () => {
    const gate = new FreshPeekGate({ minFreshRate: 0.02, sampleEvery: 4, window: 1024 });
    learn(gate, 400, () => false);
    expect(decisions(gate, 4)).toEqual([false, false, false, true]);
    // 400 looked: 8 finds less the margin's 3 is the most below 2%; the sixth fresh find brings full lookups back.
    learn(gate, 5, () => true);
    expect(decisions(gate, 4)).toEqual([false, false, false, true]);
    learn(gate, 1, () => true);
    expect(decisions(gate, 4)).toEqual([true, true, true, true]);
  });

  it("counts a sampled lookup for the keys passed over: one sampled fresh find can bring full lookups back", () => {
    const gate = new FreshPeekGate({ minFreshRate: 0.02, sampleEvery: 16, window: 1024 });
    learn(gate, 400, () => false);
    const kinds = gate.kindsOf("t", "e", false);
    let weight = 0;
    while (weight === 0) weight = gate.shouldLook(kinds, "x", gate.beginCall());
    // The sampled call's lookups weigh sampleEvery each; a lookup in full weighs 1.
    expect(weight).toBe(16);
    gate.looked(kinds, "x", false, weight);
    expect(decisions(gate, 15).some((d) => d)).toBe(false);
    // 416 looked and none fresh; one sampled fresh find makes it 432 and 16: 19 is not below 2% of 432.
    gate.looked(kinds, "x", true, 16);
    expect(decisions(gate, 3)).toEqual([true, true, true]);
    expect(gate.shouldLook(kinds, "x", gate.beginCall())).toBe(1);
  });

  it("weighs recent lookups most: the counts halve whenever the window fills", () => {
    const gate = new FreshPeekGate({ minFreshRate: 0.02, sampleEvery: 2, window: 512 });
    // Half fresh long ago, then none: the old finds fade and the kind is sampled.
    learn(gate, 500, (i) => i % 2 === 0);
    expect(decisions(gate, 1)).toEqual([true]);
    learn(gate, 3000, () => false);
    expect(decisions(gate, 2)).toEqual([false, true]);
  });

  it("with minFreshRate 0 looks every key up, and rejects settings out of range", () => {
    const gate = new FreshPeekGate({ minFreshRate: 0 });
    learn(gate, 5000, () => false);
    expect(decisions(gate, 20).every((d) => d)).toBe(true);
    expect(() => new FreshPeekGate({ minFreshRate: 1.5 })).toThrow(/minFreshRate/);
    expect(() => new FreshPeekGate({ sampleEvery: 0 })).toThrow(/sampleEvery/);
    expect(() => new FreshPeekGate({ maxKinds: 1.5 })).toThrow(/maxKinds/);
  });

  it("remembers at most maxKinds kinds (tenant and event type), forgetting the least recent", () => {
    const gate = new FreshPeekGate({ maxKinds: 2, sampleEvery: 1_000 });
    for (const tenant of ["a", "b"]) learn(gate, 400, () => false, tenant);
    expect(decisions(gate, 1, "a")).toEqual([false]);
    learn(gate, 400, () => false, "c");
    // b was least recently used: forgotten, so looked up in full again; a and c were kept.
    expect(decisions(gate, 1, "a")).toEqual([false]);
    expect(decisions(gate, 1, "b")).toEqual([true]);
  });
});

describe("triggers with the freshness gate", () => {
  it("stop looking up every key of an event whose results are never fresh, and count what they passed over", async () => {
    const h = counted();
    // 200 new videos: six kinds of key, 200 lookups each, none fresh.
    await h.core.triggerMany(videos("acme", 0, 200));
    expect(h.asked).toHaveLength(1200);
    h.asked.length = 0;
    // Each kind is looked up in one call in 16: the 16th of these calls of 10 videos.
    const calls = [];
    for (let k = 0; k < 16; k++) {
      const before = h.asked.length;
      calls.push(await h.core.triggerMany(videos("acme", 200 + 10 * k, 10)));
      expect(h.asked.length - before).toBe(k === 15 ? 60 : 0);
    }
    // Every task is still enqueued.
    expect(calls.flat().every((x) => x.queued.length === 6)).toBe(true);
    expect(h.executor.tasks).toHaveLength(360 * 6);
    expect(h.core.counters.unlookedCount()).toBe(900);
    // Enqueued, so not counted as skipped.
    expect(h.core.counters.snapshot().skippedByReason).toEqual([]);
    // Another tenant's first videos are looked up in full: its own kinds.
    h.asked.length = 0;
    await h.core.triggerMany(videos("other", 0, 10));
    expect(h.asked).toHaveLength(60);
  });

  it("look up in full again once sampled lookups find fresh results, and skip what they find", async () => {
    const h = counted();
    await h.core.triggerMany(videos("acme", 0, 200));
    // Videos 1000.. now have every result fresh (re-uploaded, say); the sampled ones find it.
    for (let i = 1000; i < 1400; i++)
      for (const t of ["scene_detection", "face_detection", "hook_analysis", "ctr_prediction"])
        h.cache.expiresAt.set(`acme/${t}/vid-${i}`, h.clock.now() + 60_000);
    for (const t of ["thumbnail_generation", "caption_generation"])
      for (let i = 1000; i < 1400; i++) h.cache.expiresAt.set(`acme/${t}/vid-${i}`, h.clock.now() + 60_000);
    let skipped = 0;
    for (let k = 0; k < 40; k++) {
      const r = await h.core.triggerMany(videos("acme", 1000 + 10 * k, 10));
      skipped += r.reduce((n, x) => n + x.skippedFresh.length, 0);
    }
    h.asked.length = 0;
    const last = await h.core.triggerMany(videos("acme", 1000, 10));
    // Back to full lookups: all ten events' results are fresh and skipped, but for the task
    // that carries the event's features (this executor takes no features without a task).
    expect(h.asked).toHaveLength(60);
    expect(last.map((x) => [x.skippedFresh.length, x.queued.length])).toEqual(Array(10).fill([5, 1]));
    // The first sampled call found ten fresh results a kind: full lookups from the next call on.
    expect(skipped).toBe(5 * 400 - 5 * 150);
  });

  it("follow a kind that turns fresh within one sampled call, one event per call", async () => {
    const h = counted();
    await h.core.triggerMany(videos("acme", 0, 200));
    const types = ["scene_detection", "face_detection", "hook_analysis", "ctr_prediction"];
    for (const t of [...types, "thumbnail_generation", "caption_generation"])
      for (let i = 2000; i < 2040; i++) h.cache.expiresAt.set(`acme/${t}/vid-${i}`, h.clock.now() + 60_000);
    const skipped: number[] = [];
    for (let i = 2000; i < 2040; i++)
      skipped.push((await h.core.trigger(video("acme", i))).skippedFresh.length);
    // Fifteen calls pass over the lookups; the sixteenth samples them, finds every result fresh,
    // and its finding stands for the fifteen: full lookups (five skipped of six) from then on.
    expect(skipped).toEqual([...Array(15).fill(0), ...Array(25).fill(5)]);
    expect(h.core.counters.unlookedCount()).toBe(15 * 6);
  });

  it("learn nothing from a cache that did not answer", async () => {
    const h = counted();
    h.cache.down = true;
    await h.core.triggerMany(videos("acme", 0, 400));
    h.cache.down = false;
    h.asked.length = 0;
    await h.core.triggerMany(videos("acme", 400, 10));
    expect(h.asked).toHaveLength(60);
  });

  it("look up every key with freshPeeks.minFreshRate 0", async () => {
    const h = counted({ freshPeeks: { minFreshRate: 0 } });
    await h.core.triggerMany(videos("acme", 0, 400));
    h.asked.length = 0;
    await h.core.triggerMany(videos("acme", 400, 16));
    expect(h.asked).toHaveLength(96);
    expect(h.core.counters.unlookedCount()).toBe(0);
  });
});
