import { mulberry32 } from "@prescient/core";
import type { Distribution } from "./baselines.js";
import { type FeatureSpec, featureWidth } from "./features.js";

/**
 * Multinomial logistic (softmax) regression over binary features, trained
 * with Adagrad on the sparse examples: each step touches only the weights of
 * an example's active features, so an epoch costs examples × active × classes.
 * The same weights become an ONNX Gemm + Softmax (see onnx-export.ts).
 */
export interface TrainingSettings {
  epochs: number;
  learningRate: number;
  /** L2 penalty per step on the touched weights. */
  l2: number;
  seed: number;
}

export class NextActionModel {
  readonly spec: FeatureSpec;
  /** Row-major [width][classes], as ONNX Gemm takes it. */
  readonly weights: Float32Array;
  readonly bias: Float32Array;

  constructor(spec: FeatureSpec, weights: Float32Array, bias: Float32Array) {
    const width = featureWidth(spec);
    if (weights.length !== width * spec.actions.length || bias.length !== spec.actions.length)
      throw new RangeError("weights do not match the feature spec");
    this.spec = spec;
    this.weights = weights;
    this.bias = bias;
  }

  get classes(): number {
    return this.spec.actions.length;
  }

  /** Class probabilities for one example's active features. */
  probabilities(features: readonly number[]): Float64Array {
    return this.probabilitiesInto(features, new Float64Array(this.classes));
  }

  /** probabilities(), written into `z` (one per class). */
  probabilitiesInto(features: readonly number[], z: Float64Array): Float64Array {
    const c = this.classes;
    const weights = this.weights;
    for (let j = 0; j < c; j++) z[j] = this.bias[j]!;
    for (let f = 0; f < features.length; f++) {
      const row = features[f]! * c;
      for (let j = 0; j < c; j++) z[j]! += weights[row + j]!;
    }
    return softmaxInPlace(z);
  }

  distribution(features: readonly number[]): Distribution {
    return toDistribution(this.spec.actions, this.probabilities(features));
  }
}

export function toDistribution(actions: readonly string[], p: ArrayLike<number>): Distribution {
  const d: Distribution = new Map();
  for (const [j, a] of actions.entries()) d.set(a, p[j] ?? 0);
  return d;
}

function softmaxInPlace(z: Float64Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < z.length; j++) if (z[j]! > max) max = z[j]!;
  let sum = 0;
  for (let j = 0; j < z.length; j++) {
    z[j] = Math.exp(z[j]! - max);
    sum += z[j]!;
  }
  for (let j = 0; j < z.length; j++) z[j]! /= sum;
  return z;
}

export function trainSoftmax(
  spec: FeatureSpec,
  examples: ReadonlyArray<{ features: number[]; label: string }>,
  settings: TrainingSettings,
): NextActionModel {
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
  const model = new NextActionModel(spec, w, b);
  const lr = settings.learningRate;
  const l2 = settings.l2;
  // Each example's class and weight rows (feature × classes), laid out once in one array rather
  // than looked up every epoch, and buffers for the probabilities and gradients. The arithmetic is
  // the model's own (probabilitiesInto), in the same order for every weight: a weight's update reads
  // only itself, its accumulator and its class's gradient, so updating by feature, then class,
  // gives the same weights as by class, then feature.
  const labels = Int32Array.from(usable, (e) => classOf.get(e.label)!);
  const starts = new Int32Array(usable.length + 1);
  for (let n = 0; n < usable.length; n++) starts[n + 1] = starts[n]! + usable[n]!.features.length;
  const rows = new Int32Array(starts[usable.length]!);
  for (let n = 0; n < usable.length; n++) {
    const features = usable[n]!.features;
    for (let a = 0; a < features.length; a++) rows[starts[n]! + a] = features[a]! * c;
  }
  const p = new Float64Array(c);
  const g = new Float64Array(c);
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let o = 0; o < order.length; o++) {
      const n = order[o]!;
      const y = labels[n]!;
      const first = starts[n]!;
      const end = starts[n + 1]!;
      for (let j = 0; j < c; j++) p[j] = b[j]!;
      for (let a = first; a < end; a++) {
        const row = rows[a]!;
        for (let j = 0; j < c; j++) p[j]! += w[row + j]!;
      }
      softmaxInPlace(p);
      for (let j = 0; j < c; j++) {
        const gj = p[j]! - (j === y ? 1 : 0);
        g[j] = gj;
        gb[j]! += gj * gj;
        b[j]! -= (lr * gj) / Math.sqrt(gb[j]!);
      }
      for (let a = first; a < end; a++) {
        const row = rows[a]!;
        for (let j = 0; j < c; j++) {
          const k = row + j;
          const gk = g[j]! + l2 * w[k]!;
          gw[k]! += gk * gk;
          w[k]! -= (lr * gk) / Math.sqrt(gw[k]!);
        }
      }
    }
  }
  return model;
}
