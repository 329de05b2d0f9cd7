import type { Loss, OutputActivation } from "./mlp.js";
import type { Rng } from "./rng.js";

/**
 * The example models' synthetic worlds. Each has a known generating function
 * (`truth`), a way to draw realistic feature rows, and a noisy label drawn
 * from the truth: the models are trained on the labels, and the tests check
 * them against the truth on fresh rows.
 *
 * Feature names and order must match the model's task type in
 * config/task-types.yaml (input tensor `features`, FP32, [-1, n]).
 */
export interface ExampleSpec {
  model: string;
  description: string;
  features: string[];
  output: string;
  /** What the output is: a probability (judged by AUC) or a value (judged by error). */
  kind: "probability" | "value";
  sample(rng: Rng): number[];
  truth(x: readonly number[]): number;
  label(truth: number, rng: Rng): number;
  train: {
    hidden: number;
    epochs: number;
    rows: number;
    activation: OutputActivation;
    loss: Loss;
    learningRate: number;
  };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const at = (x: readonly number[], i: number): number => x[i] ?? 0;

const ctr: ExampleSpec = {
  model: "ctr_prediction",
  description: "Click probability of an ad impression.",
  features: [
    "bid",
    "quality_score",
    "position",
    "hour_of_day",
    "ad_age_days",
    "historical_ctr",
    "relevance",
    "device_mobile",
  ],
  output: "probability",
  kind: "probability",
  sample: (rng) => [
    rng.uniform(0.1, 5),
    rng.uniform(1, 10),
    rng.int(1, 10),
    rng.uniform(0, 24),
    rng.uniform(0, 90),
    rng.uniform(0, 0.1),
    rng.next(),
    rng.bernoulli(0.6),
  ],
  truth: (x) =>
    sigmoid(
      -2.2 +
        0.35 * Math.log(at(x, 0)) +
        0.18 * (at(x, 1) - 5) -
        0.22 * (at(x, 2) - 1) +
        0.45 * Math.sin((2 * Math.PI * (at(x, 3) - 6)) / 24) -
        0.012 * at(x, 4) +
        14 * at(x, 5) +
        1.4 * at(x, 6) * (0.6 + 0.6 * at(x, 7)),
    ),
  label: (p, rng) => rng.bernoulli(p),
  train: { hidden: 16, epochs: 25, rows: 40_000, activation: "sigmoid", loss: "logloss", learningRate: 0.01 },
};

const roas: ExampleSpec = {
  model: "roas_prediction",
  description: "Expected return on ad spend of a campaign.",
  features: [
    "budget",
    "bid",
    "audience_size",
    "historical_roas",
    "ctr",
    "conversion_rate",
    "seasonality",
    "competition",
  ],
  output: "roas",
  kind: "value",
  sample: (rng) => [
    rng.uniform(100, 10_000),
    rng.uniform(0.1, 5),
    rng.uniform(1, 1000),
    rng.uniform(0.5, 6),
    rng.uniform(0.005, 0.08),
    rng.uniform(0.01, 0.2),
    rng.uniform(0.7, 1.4),
    rng.next(),
  ],
  // Diminishing returns on budget, efficiency from ctr × conversion, seasonality lifts, competition cuts.
  truth: (x) =>
    Math.max(
      0,
      (0.55 * at(x, 3) + 25 * at(x, 4) * at(x, 5) * 10 + 0.4 * Math.log10(at(x, 2))) *
        at(x, 6) *
        (1 - 0.45 * at(x, 7)) -
        0.12 * Math.log10(at(x, 0)) -
        0.08 * at(x, 1),
    ),
  label: (roas, rng) => Math.max(0, roas + 0.25 * rng.normal()),
  train: { hidden: 24, epochs: 30, rows: 30_000, activation: "linear", loss: "mse", learningRate: 0.005 },
};

const variant: ExampleSpec = {
  model: "variant_scoring",
  description: "Quality score (0 to 1) of a creative variant.",
  features: ["length", "sentiment", "novelty", "brand_fit", "readability", "emoji_count"],
  output: "score",
  kind: "value",
  sample: (rng) => [
    rng.uniform(10, 300),
    rng.uniform(-1, 1),
    rng.next(),
    rng.next(),
    rng.uniform(0, 100),
    rng.int(0, 8),
  ],
  // Best around 90 characters, positive and on-brand, readable, a couple of emoji at most.
  truth: (x) =>
    sigmoid(
      -(((at(x, 0) - 90) / 60) ** 2) +
        0.8 * at(x, 1) +
        0.9 * at(x, 2) +
        1.6 * at(x, 3) +
        0.02 * (at(x, 4) - 50) -
        0.3 * Math.abs(at(x, 5) - 2) -
        0.8,
    ),
  label: (score, rng) => Math.min(1, Math.max(0, score + 0.05 * rng.normal())),
  train: { hidden: 16, epochs: 30, rows: 30_000, activation: "sigmoid", loss: "mse", learningRate: 0.01 },
};

export const exampleSpecs: readonly ExampleSpec[] = [ctr, roas, variant];

/** Draws `rows` feature rows with their true values and noisy labels. */
export function sampleDataset(spec: ExampleSpec, rows: number, rng: Rng) {
  const d = spec.features.length;
  const x = new Float64Array(rows * d);
  const truth = new Float64Array(rows);
  const label = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = spec.sample(rng);
    x.set(row, r * d);
    truth[r] = spec.truth(row);
    label[r] = spec.label(truth[r]!, rng);
  }
  return { x, truth, label };
}
