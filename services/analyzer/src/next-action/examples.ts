import type { UserHistory } from "../store/analyzer-store.js";
import { type FeatureSpec, featureEncoder } from "./features.js";

/**
 * Training examples from action histories: one per action that follows
 * another of the same user, predicted at the time of the action before it
 * (the moment a prediction is useful), labelled with the action that came.
 */
export interface Example {
  /** Active feature indices. */
  features: number[];
  /** The action that followed. */
  label: string;
  /** The action before it, for the Markov baseline. */
  previous: string;
  /** When the prediction would have been made. */
  time: number;
}

export function buildExamples(histories: readonly UserHistory[], spec: FeatureSpec): Example[] {
  const encode = featureEncoder(spec);
  const out: Example[] = [];
  for (const h of histories) {
    for (let i = 1; i < h.actions.length; i++) {
      const prev = h.actions[i - 1]!;
      out.push({
        // The actions before this one, as encodeFeatures(h.actions.slice(0, i), prev.time, spec) reads them.
        features: encode(h.actions, i, prev.time),
        label: h.actions[i]!.action,
        previous: prev.action,
        time: prev.time,
      });
    }
  }
  return out;
}

/** The most frequent actions of the histories, most frequent first, at most `limit`. */
export function actionVocabulary(histories: readonly UserHistory[], limit: number): string[] {
  const counts = new Map<string, number>();
  for (const h of histories) for (const a of h.actions) counts.set(a.action, (counts.get(a.action) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([a]) => a);
}

/** Splits by time: the latest `heldOutFraction` of examples are held out, as they would be in production. */
export function splitByTime(
  examples: readonly Example[],
  heldOutFraction: number,
): { train: Example[]; test: Example[] } {
  const sorted = [...examples].sort((a, b) => a.time - b.time);
  const cut = Math.floor(sorted.length * (1 - heldOutFraction));
  return { train: sorted.slice(0, cut), test: sorted.slice(cut) };
}

/** Every (previous, next) action pair of the histories, in order: what the Markov baseline counts. */
export function actionPairs(histories: readonly UserHistory[]): Array<{ previous: string; label: string }> {
  const out: Array<{ previous: string; label: string }> = [];
  for (const h of histories)
    for (let i = 1; i < h.actions.length; i++)
      out.push({ previous: h.actions[i - 1]!.action, label: h.actions[i]!.action });
  return out;
}
