import type { UserHistory } from "../store/analyzer-store.js";
import { FrequencyBaseline, MarkovBaseline } from "./baselines.js";
import { actionVocabulary, buildExamples, splitByTime } from "./examples.js";
import type { FeatureSpec } from "./features.js";
import { evaluate, type Metrics } from "./metrics.js";
import { type NextActionModel, type TrainingSettings, trainSoftmax } from "./softmax-regression.js";

/**
 * One retraining round, pure: build examples from the histories, hold out
 * the latest part by time, train a candidate, and score it, the current
 * model and both baselines on the same held-out examples. The candidate is
 * to be promoted only if it is at least as good as the current model.
 */
export interface NextActionSettings {
  /** Latest actions used as features. Default 3. */
  historyLength: number;
  /** Buckets of the hashed last × previous action cross. Default 512. */
  crossBuckets: number;
  /** Most frequent actions that become classes; rarer ones are "other" in features and are not predicted. Default 64. */
  maxActions: number;
  /** Share of examples, the latest, held out for evaluation. Default 0.2. */
  heldOutFraction: number;
  /** Fewer training examples than this train nothing. Default 200. */
  minExamples: number;
  training: TrainingSettings;
}

export const defaultNextActionSettings: NextActionSettings = {
  historyLength: 3,
  crossBuckets: 512,
  maxActions: 64,
  heldOutFraction: 0.2,
  minExamples: 200,
  training: { epochs: 12, learningRate: 0.2, l2: 1e-6, seed: 1 },
};

export interface RetrainOutcome {
  candidate: Metrics | undefined;
  current: Metrics | undefined;
  markov: Metrics;
  frequency: Metrics;
  model: NextActionModel | undefined;
  promote: boolean;
  explanation: string;
  /** Markov chain over all examples: the serving fallback until the next round. */
  fallback: MarkovBaseline;
}

export function retrainNextAction(
  histories: readonly UserHistory[],
  settings: NextActionSettings,
  sessionGapMs: number,
  current: NextActionModel | undefined,
): RetrainOutcome {
  const spec: FeatureSpec = {
    actions: actionVocabulary(histories, settings.maxActions),
    historyLength: settings.historyLength,
    crossBuckets: settings.crossBuckets,
    sessionGapMs,
  };
  const examples = buildExamples(histories, spec);
  const { train, test } = splitByTime(examples, settings.heldOutFraction);
  const fallback = new MarkovBaseline().fit(examples);
  const markovTrain = new MarkovBaseline().fit(train);
  const frequencyTrain = new FrequencyBaseline().fit(train.map((e) => e.label));
  const markov = evaluate(test, (e) => markovTrain.predict(e.previous).distribution);
  const frequency = evaluate(test, () => frequencyTrain.predict());
  // The current model is scored with its own features (its vocabulary may differ); the split is the same,
  // because examples come out in the same order whatever the spec.
  const currentTest =
    current === undefined
      ? undefined
      : sameSpec(current.spec, spec)
        ? test
        : splitByTime(buildExamples(histories, current.spec), settings.heldOutFraction).test;
  const currentMetrics =
    current === undefined || currentTest === undefined
      ? undefined
      : evaluate(currentTest, (e) => current.distribution(e.features));
  if (train.length < settings.minExamples || test.length === 0 || spec.actions.length < 2) {
    return {
      candidate: undefined,
      current: currentMetrics,
      markov,
      frequency,
      model: undefined,
      promote: false,
      explanation: `too little data: ${train.length} training and ${test.length} held-out examples over ${spec.actions.length} actions (need ${settings.minExamples} training examples and 2 actions)`,
      fallback,
    };
  }
  const model = trainSoftmax(spec, train, settings.training);
  const candidate = evaluate(test, (e) => model.distribution(e.features));
  const promote = currentMetrics === undefined || candidate.top1Accuracy >= currentMetrics.top1Accuracy;
  const pct = (m: Metrics): string => `${(m.top1Accuracy * 100).toFixed(1)}%`;
  const explanation =
    currentMetrics === undefined
      ? `no current model: candidate top-1 ${pct(candidate)} (Markov ${pct(markov)}, most frequent ${pct(frequency)})`
      : promote
        ? `candidate top-1 ${pct(candidate)} is at least the current ${pct(currentMetrics)}`
        : `candidate top-1 ${pct(candidate)} is below the current ${pct(currentMetrics)}: kept the current model`;
  return { candidate, current: currentMetrics, markov, frequency, model, promote, explanation, fallback };
}

/** Specs that encode alike (the current model's is usually the candidate's): its examples need not be built again. */
export function sameSpec(a: FeatureSpec, b: FeatureSpec): boolean {
  const keys = Object.keys(a) as (keyof FeatureSpec)[];
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => {
    const x = a[k];
    const y = b[k];
    return Array.isArray(x) && Array.isArray(y)
      ? x.length === y.length && x.every((v, i) => Object.is(v, y[i]))
      : Object.is(x, y);
  });
}
