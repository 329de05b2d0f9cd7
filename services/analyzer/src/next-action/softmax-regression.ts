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
    const c = this.classes;
    const z = new Float64Array(c);
    for (let j = 0; j < c; j++) z[j] = this.bias[j]!;
    for (const i of features) for (let j = 0; j < c; j++) z[j]! += this.weights[i * c + j]!;
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
  for (const v of z) if (v > max) max = v;
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
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const n of order) {
      const e = usable[n]!;
      const p = model.probabilities(e.features);
      const y = classOf.get(e.label)!;
      for (let j = 0; j < c; j++) {
        const g = p[j]! - (j === y ? 1 : 0);
        gb[j]! += g * g;
        b[j]! -= (lr * g) / Math.sqrt(gb[j]!);
        for (const f of e.features) {
          const k = f * c + j;
          const gk = g + settings.l2 * w[k]!;
          gw[k]! += gk * gk;
          w[k]! -= (lr * gk) / Math.sqrt(gw[k]!);
        }
      }
    }
  }
  return model;
}
