import { describe, expect, it } from "vitest";
import { buildExamples, splitByTime } from "./examples.js";
import { exportNextActionOnnx, importNextActionOnnx } from "./onnx-export.js";
import { syntheticPopulation } from "./synthetic-population.test-util.js";
import { defaultNextActionSettings, retrainNextAction } from "./trainer.js";

const gap = 30 * 60_000;

describe("next-action model on a population with a known action process", () => {
  const population = syntheticPopulation({
    users: 300,
    sessionsPerUser: 12,
    start: Date.UTC(2025, 0, 6),
    days: 28,
    seed: 7,
  });

  it("reaches at least 0.95x the Bayes-optimal top-1 accuracy and beats the Markov baseline", () => {
    const outcome = retrainNextAction(population.histories, defaultNextActionSettings, gap, undefined);
    expect(outcome.model).toBeDefined();
    // Bayes-optimal accuracy on the same held-out examples: the largest true probability at each one.
    const { test } = splitByTime(
      buildExamples(population.histories, outcome.model!.spec),
      defaultNextActionSettings.heldOutFraction,
    );
    const bayes =
      test.reduce((sum, e) => sum + Math.max(...population.truth(e.previous, e.time).values()), 0) /
      test.length;
    const candidate = outcome.candidate!.top1Accuracy;
    console.log(
      `held-out ${test.length}: bayes ${bayes.toFixed(4)} model ${candidate.toFixed(4)} markov ${outcome.markov.top1Accuracy.toFixed(4)} frequency ${outcome.frequency.top1Accuracy.toFixed(4)} ratio ${(candidate / bayes).toFixed(4)}`,
    );
    expect(candidate).toBeGreaterThanOrEqual(0.95 * bayes);
    expect(candidate).toBeGreaterThan(outcome.markov.top1Accuracy);
    expect(outcome.markov.top1Accuracy).toBeGreaterThan(outcome.frequency.top1Accuracy);
    expect(outcome.promote).toBe(true);
  });

  it("round-trips through ONNX with its feature spec", () => {
    const outcome = retrainNextAction(population.histories, defaultNextActionSettings, gap, undefined);
    const back = importNextActionOnnx(exportNextActionOnnx(outcome.model!));
    expect(back.spec).toEqual(outcome.model!.spec);
    expect(Array.from(back.weights)).toEqual(Array.from(outcome.model!.weights));
  });
});
