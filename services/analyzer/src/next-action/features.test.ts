import { mulberry32 } from "@prescient/core";
import { describe, expect, it } from "vitest";
import type { ActionRecord, UserHistory } from "../store/analyzer-store.js";
import { buildExamples } from "./examples.js";
import { encodeFeatures, type FeatureSpec, featureEncoder, featureWidth } from "./features.js";
import { trainSoftmax } from "./softmax-regression.js";
import { syntheticPopulation } from "./synthetic-population.test-util.js";

/**
 * The encoder and the trainer were made cheaper (work per spec done once, no
 * copies, reused buffers); these hold them to the versions first written,
 * kept here as references, bit for bit.
 */
const dayMs = 86_400_000;
const todayEdges = [1, 2, 4, 8, 16];
const sessionEdges = [5, 15, 60];

function referenceEncode(history: readonly ActionRecord[], at: number, spec: FeatureSpec): number[] {
  const slots = spec.actions.length + 2;
  const l = { hour: 0, day: 24, history: 31 };
  const today0 = l.history + spec.historyLength * slots;
  const session0 = today0 + todayEdges.length + 1;
  const daypart0 = session0 + sessionEdges.length + 2;
  const cross0 = daypart0 + 6 * slots;
  const bucketOf = (edges: readonly number[], v: number): number => {
    let i = 0;
    while (i < edges.length && v >= edges[i]!) i++;
    return i;
  };
  const fnv1a = (text: string): number => {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return h >>> 0;
  };
  const vocab = new Map(spec.actions.map((a, i) => [a, i]));
  let end = history.length;
  while (end > 0 && history[end - 1]!.time > at) end--;
  const out: number[] = [];
  const hour = new Date(at).getUTCHours();
  out.push(l.hour + hour, l.day + ((new Date(at).getUTCDay() + 6) % 7));
  const names: string[] = [];
  const lastSlots: number[] = [];
  for (let k = 0; k < spec.historyLength; k++) {
    const rec = history[end - 1 - k];
    names.push(rec === undefined ? "(none)" : vocab.has(rec.action) ? rec.action : "(other)");
    const slot = rec === undefined ? spec.actions.length : (vocab.get(rec.action) ?? spec.actions.length + 1);
    lastSlots.push(slot);
    out.push(l.history + k * slots + slot);
  }
  const dayStart = Math.floor(at / dayMs) * dayMs;
  let today = 0;
  for (let i = end - 1; i >= 0 && history[i]!.time >= dayStart; i--) today++;
  out.push(today0 + bucketOf(todayEdges, today));
  let start = end - 1;
  if (start >= 0 && at - history[start]!.time <= spec.sessionGapMs) {
    while (start > 0 && history[start]!.time - history[start - 1]!.time <= spec.sessionGapMs) start--;
    out.push(session0 + 1 + bucketOf(sessionEdges, (at - history[start]!.time) / 60_000));
  } else out.push(session0);
  out.push(daypart0 + Math.floor(hour / 4) * slots + (lastSlots[0] ?? spec.actions.length));
  if (spec.crossBuckets > 0) out.push(cross0 + (fnv1a(`${names[0]}|${names[1] ?? "-"}`) % spec.crossBuckets));
  return [...new Set(out)].sort((a, b) => a - b);
}

function referenceTrain(
  spec: FeatureSpec,
  examples: ReadonlyArray<{ features: number[]; label: string }>,
  settings: { epochs: number; learningRate: number; l2: number; seed: number },
): { w: Float32Array; b: Float32Array } {
  const c = spec.actions.length;
  const width = featureWidth(spec);
  const classOf = new Map(spec.actions.map((a, j) => [a, j]));
  const usable = examples.filter((e) => classOf.has(e.label));
  const w = new Float32Array(width * c);
  const b = new Float32Array(c);
  const gw = new Float32Array(width * c).fill(1e-8);
  const gb = new Float32Array(c).fill(1e-8);
  const order = usable.map((_, i) => i);
  const random = mulberry32(settings.seed);
  const probabilities = (features: readonly number[]): Float64Array => {
    const z = new Float64Array(c);
    for (let j = 0; j < c; j++) z[j] = b[j]!;
    for (const i of features) for (let j = 0; j < c; j++) z[j]! += w[i * c + j]!;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of z) if (v > max) max = v;
    let sum = 0;
    for (let j = 0; j < c; j++) {
      z[j] = Math.exp(z[j]! - max);
      sum += z[j]!;
    }
    for (let j = 0; j < c; j++) z[j]! /= sum;
    return z;
  };
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const n of order) {
      const e = usable[n]!;
      const p = probabilities(e.features);
      const y = classOf.get(e.label)!;
      for (let j = 0; j < c; j++) {
        const g = p[j]! - (j === y ? 1 : 0);
        gb[j]! += g * g;
        b[j]! -= (settings.learningRate * g) / Math.sqrt(gb[j]!);
        for (const f of e.features) {
          const k = f * c + j;
          const gk = g + settings.l2 * w[k]!;
          gw[k]! += gk * gk;
          w[k]! -= (settings.learningRate * gk) / Math.sqrt(gw[k]!);
        }
      }
    }
  }
  return { w, b };
}

/** Histories with every case the encoder branches on: unknown actions, gaps, same-time actions, days. */
function randomHistories(seed: number): UserHistory[] {
  const random = mulberry32(seed);
  const actions = ["a", "b", "c", "d", "e", "rare1", "rare2"];
  return Array.from({ length: 40 }, (_, u) => {
    let t = Date.UTC(2025, 0, 1) + Math.floor(random() * 5 * dayMs);
    return {
      tenant: "t",
      userId: `u${u}`,
      actions: Array.from({ length: Math.floor(random() * 30) }, () => {
        const r = random();
        t += r < 0.1 ? 0 : r < 0.8 ? Math.floor(random() * 20 * 60_000) : Math.floor(random() * 2 * dayMs);
        return { time: t, action: actions[Math.floor(random() ** 2 * actions.length)]! };
      }),
    };
  });
}

const specs: FeatureSpec[] = [
  { actions: ["a", "b", "c"], historyLength: 3, crossBuckets: 512, sessionGapMs: 30 * 60_000 },
  { actions: ["c", "a", "d", "b", "e"], historyLength: 1, crossBuckets: 7, sessionGapMs: 5 * 60_000 },
  { actions: ["a"], historyLength: 0, crossBuckets: 0, sessionGapMs: 0 },
  { actions: ["a", "b", "a"], historyLength: 2, crossBuckets: 64, sessionGapMs: 60 * 60_000 },
];

describe("next-action features", () => {
  it("encode as the first encoder did, for every prefix and prediction time", () => {
    for (const [i, spec] of specs.entries())
      for (const h of randomHistories(i + 1)) {
        const encode = featureEncoder(spec);
        for (let end = 0; end <= h.actions.length; end++) {
          const prefix = h.actions.slice(0, end);
          for (const at of [
            prefix.at(-1)?.time ?? 0,
            (prefix.at(-1)?.time ?? 0) + 45 * 60_000,
            h.actions[0]?.time ?? 1,
          ]) {
            const expected = referenceEncode(prefix, at, spec);
            expect(encode(h.actions, end, at)).toEqual(expected);
            expect(encodeFeatures(prefix, at, spec)).toEqual(expected);
          }
        }
      }
  });

  it("build the examples of the first encoder", () => {
    const histories = randomHistories(9);
    const spec = specs[0]!;
    const expected = histories.flatMap((h) =>
      h.actions.slice(1).map((a, i) => ({
        features: referenceEncode(h.actions.slice(0, i + 1), h.actions[i]!.time, spec),
        label: a.action,
        previous: h.actions[i]!.action,
        time: h.actions[i]!.time,
      })),
    );
    expect(buildExamples(histories, spec)).toEqual(expected);
  });

  it("train the weights the first trainer trained, bit for bit", () => {
    const population = syntheticPopulation({
      users: 60,
      sessionsPerUser: 6,
      start: Date.UTC(2025, 0, 6),
      days: 7,
      seed: 3,
    });
    const spec: FeatureSpec = {
      actions: ["search", "view_campaign", "view_report", "edit_campaign", "logout"],
      historyLength: 3,
      crossBuckets: 64,
      sessionGapMs: 30 * 60_000,
    };
    const examples = buildExamples(population.histories, spec);
    const settings = { epochs: 3, learningRate: 0.2, l2: 1e-3, seed: 5 };
    const model = trainSoftmax(spec, examples, settings);
    const expected = referenceTrain(spec, examples, settings);
    expect(Buffer.from(model.weights.buffer).equals(Buffer.from(expected.w.buffer))).toBe(true);
    expect(Buffer.from(model.bias.buffer).equals(Buffer.from(expected.b.buffer))).toBe(true);
  });
});
