import type { Rng } from "./rng.js";

/**
 * A one-hidden-layer perceptron, trained here in TypeScript so that the
 * example models are built from a known generating function without Python.
 * Inputs are standardised during training; the scaling is folded into the
 * first layer afterwards so that the exported graph takes raw features.
 */
export type OutputActivation = "sigmoid" | "linear";
export type Loss = "logloss" | "mse";

export interface MlpWeights {
  inputs: number;
  hidden: number;
  /** Row-major [inputs][hidden]. */
  w1: Float64Array;
  b1: Float64Array;
  /** [hidden]. */
  w2: Float64Array;
  b2: number;
  activation: OutputActivation;
}

export interface TrainOptions {
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  activation: OutputActivation;
  loss: Loss;
  /** Called once per epoch with the mean training loss: progress for the CLI. */
  onEpoch: (epoch: number, loss: number) => void;
}

const defaults: TrainOptions = {
  hidden: 16,
  epochs: 30,
  batchSize: 64,
  learningRate: 0.01,
  activation: "sigmoid",
  loss: "logloss",
  onEpoch: () => {},
};

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Forward pass of one row with raw (unscaled) features, for tests and checks. */
export function predict(w: MlpWeights, x: ArrayLike<number>): number {
  let out = w.b2;
  for (let h = 0; h < w.hidden; h++) {
    let z = w.b1[h]!;
    for (let i = 0; i < w.inputs; i++) z += x[i]! * w.w1[i * w.hidden + h]!;
    if (z > 0) out += z * w.w2[h]!;
  }
  return w.activation === "sigmoid" ? sigmoid(out) : out;
}

/** Trains on rows `x` (row-major, `n` rows) against targets `y` with Adam. */
export function trainMlp(
  x: Float64Array,
  y: Float64Array,
  rng: Rng,
  options?: Partial<TrainOptions>,
): MlpWeights {
  const o = { ...defaults, ...options };
  const n = y.length;
  const d = x.length / n;
  const { mean, std } = standardise(x, n, d);
  const xs = new Float64Array(x.length);
  for (let r = 0; r < n; r++)
    for (let i = 0; i < d; i++) xs[r * d + i] = (x[r * d + i]! - mean[i]!) / std[i]!;

  const H = o.hidden;
  const params = new Float64Array(d * H + H + H + 1);
  const scale1 = Math.sqrt(2 / d);
  for (let k = 0; k < d * H; k++) params[k] = rng.normal() * scale1;
  for (let k = 0; k < H; k++) params[d * H + H + k] = rng.normal() * Math.sqrt(1 / H);
  const grad = new Float64Array(params.length);
  const m = new Float64Array(params.length);
  const v = new Float64Array(params.length);
  const b1At = d * H;
  const w2At = b1At + H;
  const b2At = w2At + H;
  const hidden = new Float64Array(H);
  const order = Array.from({ length: n }, (_, i) => i);
  let step = 0;

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    shuffle(order, rng);
    let lossSum = 0;
    for (let start = 0; start < n; start += o.batchSize) {
      grad.fill(0);
      const end = Math.min(n, start + o.batchSize);
      for (let j = start; j < end; j++) {
        const r = order[j]!;
        let out = params[b2At]!;
        for (let h = 0; h < H; h++) {
          let z = params[b1At + h]!;
          for (let i = 0; i < d; i++) z += xs[r * d + i]! * params[i * H + h]!;
          hidden[h] = Math.max(z, 0);
          out += hidden[h]! * params[w2At + h]!;
        }
        const target = y[r]!;
        const pred = o.activation === "sigmoid" ? sigmoid(out) : out;
        // For sigmoid+logloss the gradient at the logit is pred - target; for MSE chain through the activation.
        let dOut: number;
        if (o.loss === "logloss") {
          const p = Math.min(Math.max(pred, 1e-7), 1 - 1e-7);
          lossSum -= target * Math.log(p) + (1 - target) * Math.log(1 - p);
          dOut = pred - target;
        } else {
          lossSum += (pred - target) ** 2;
          dOut = 2 * (pred - target) * (o.activation === "sigmoid" ? pred * (1 - pred) : 1);
        }
        grad[b2At] = grad[b2At]! + dOut;
        for (let h = 0; h < H; h++) {
          if (hidden[h]! <= 0) continue;
          grad[w2At + h] = grad[w2At + h]! + dOut * hidden[h]!;
          const dz = dOut * params[w2At + h]!;
          grad[b1At + h] = grad[b1At + h]! + dz;
          for (let i = 0; i < d; i++) grad[i * H + h] = grad[i * H + h]! + dz * xs[r * d + i]!;
        }
      }
      step++;
      adam(params, grad, m, v, step, o.learningRate, end - start);
    }
    o.onEpoch(epoch + 1, lossSum / n);
  }

  // Fold the standardisation into layer 1: w' = w / std, b' = b - sum(w * mean / std).
  const w1 = new Float64Array(d * H);
  const b1 = new Float64Array(H);
  for (let h = 0; h < H; h++) {
    let b = params[b1At + h]!;
    for (let i = 0; i < d; i++) {
      w1[i * H + h] = params[i * H + h]! / std[i]!;
      b -= (params[i * H + h]! * mean[i]!) / std[i]!;
    }
    b1[h] = b;
  }
  return {
    inputs: d,
    hidden: H,
    w1,
    b1,
    w2: params.slice(w2At, w2At + H),
    b2: params[b2At]!,
    activation: o.activation,
  };
}

function adam(
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  t: number,
  lr: number,
  n: number,
) {
  const beta1 = 0.9;
  const beta2 = 0.999;
  const c1 = 1 - beta1 ** t;
  const c2 = 1 - beta2 ** t;
  for (let k = 0; k < p.length; k++) {
    const gk = g[k]! / n;
    m[k] = beta1 * m[k]! + (1 - beta1) * gk;
    v[k] = beta2 * v[k]! + (1 - beta2) * gk * gk;
    p[k] = p[k]! - (lr * (m[k]! / c1)) / (Math.sqrt(v[k]! / c2) + 1e-8);
  }
}

function standardise(x: Float64Array, n: number, d: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] = mean[i]! + x[r * d + i]! / n;
  for (let r = 0; r < n; r++)
    for (let i = 0; i < d; i++) std[i] = std[i]! + (x[r * d + i]! - mean[i]!) ** 2 / n;
  for (let i = 0; i < d; i++) std[i] = Math.sqrt(std[i]!) || 1;
  return { mean, std };
}

function shuffle(a: number[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
