import type { Distribution } from "./baselines.js";

/** Held-out quality of a next-action predictor. */
export interface Metrics {
  top1Accuracy: number;
  /** Mean negative log-likelihood of the true action (natural log), probabilities clipped at 1e-6. */
  logLoss: number;
  examples: number;
}

const floor = 1e-6;

export function evaluate<E extends { label: string }>(
  examples: readonly E[],
  predict: (e: E) => Distribution,
): Metrics {
  if (examples.length === 0) return { top1Accuracy: 0, logLoss: 0, examples: 0 };
  let correct = 0;
  let loss = 0;
  for (const e of examples) {
    const d = predict(e);
    let best: string | undefined;
    let bestP = -1;
    for (const [a, p] of d) {
      if (p > bestP || (p === bestP && best !== undefined && a < best)) {
        best = a;
        bestP = p;
      }
    }
    if (best === e.label) correct++;
    loss -= Math.log(Math.max(floor, d.get(e.label) ?? 0));
  }
  return {
    top1Accuracy: correct / examples.length,
    logLoss: loss / examples.length,
    examples: examples.length,
  };
}
