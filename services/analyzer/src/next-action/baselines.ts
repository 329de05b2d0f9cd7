/**
 * The baselines the learned model must beat, kept and reported at every
 * retrain, and the fallback when the model cannot answer: the most frequent
 * action, and a first-order Markov chain (next action given the last one),
 * add-one smoothed and backed off to frequencies for an unseen last action.
 */
export type Distribution = Map<string, number>;

function normalise(
  counts: ReadonlyMap<string, number>,
  smoothing: number,
  actions: readonly string[],
): Distribution {
  let total = 0;
  for (const a of actions) total += (counts.get(a) ?? 0) + smoothing;
  const out: Distribution = new Map();
  for (const a of actions)
    out.set(a, total > 0 ? ((counts.get(a) ?? 0) + smoothing) / total : 1 / actions.length);
  return out;
}

export class FrequencyBaseline {
  readonly #counts = new Map<string, number>();

  fit(labels: Iterable<string>): this {
    for (const l of labels) this.#counts.set(l, (this.#counts.get(l) ?? 0) + 1);
    return this;
  }

  get actions(): string[] {
    return [...this.#counts.keys()];
  }

  predict(): Distribution {
    return normalise(this.#counts, 0, this.actions);
  }
}

export class MarkovBaseline {
  readonly #transitions = new Map<string, Map<string, number>>();
  readonly #frequency = new FrequencyBaseline();

  fit(pairs: Iterable<{ previous: string; label: string }>): this {
    const labels: string[] = [];
    for (const { previous, label } of pairs) {
      let row = this.#transitions.get(previous);
      if (row === undefined) {
        row = new Map();
        this.#transitions.set(previous, row);
      }
      row.set(label, (row.get(label) ?? 0) + 1);
      labels.push(label);
    }
    this.#frequency.fit(labels);
    return this;
  }

  get trained(): boolean {
    return this.#transitions.size > 0;
  }

  /** Next-action distribution after `previous`; frequencies when it was never seen (or undefined). */
  predict(previous: string | undefined): { distribution: Distribution; backedOff: boolean } {
    const row = previous === undefined ? undefined : this.#transitions.get(previous);
    if (row === undefined) return { distribution: this.#frequency.predict(), backedOff: true };
    return { distribution: normalise(row, 1, this.#frequency.actions), backedOff: false };
  }

  get frequencies(): Distribution {
    return this.#frequency.predict();
  }
}

/** The `limit` most likely actions, most likely first. */
export function topActions(d: Distribution, limit: number): Array<{ action: string; probability: number }> {
  return [...d]
    .map(([action, probability]) => ({ action, probability }))
    .sort((a, b) => b.probability - a.probability || (a.action < b.action ? -1 : 1))
    .slice(0, limit);
}
