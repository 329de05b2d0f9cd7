import type { ComputeReason } from "./metrics.js";

/**
 * How well the probabilities that ahead computes carried (the chance the
 * precomputer gave each result of being read before it expires, by which the
 * budget admits it) match what happened: per reason and tenth of the
 * probability, how many such results resolved and what share of them was
 * read. A source whose results at 0.3 are read half the time is worth more
 * than the budget thinks; one whose results at 0.3 are read a tenth of the
 * time wastes what it is given. Results still fresh and unread at the end
 * count nowhere, as in the waste; a result replaced before it expired (by a
 * refresh) is judged over the life it had, as the waste judges it.
 */
export interface CalibrationBin {
  reason: ComputeReason;
  /** The tenth of the probability: [lower, lower + 0.1), the last one including 1. */
  lower: number;
  /** Results that resolved: read at least once while fresh, or expired (or replaced) unread. */
  resolved: number;
  /** The mean probability they carried. */
  meanProbability: number;
  /** The share of them read: what the mean probability should be. */
  readShare: number;
}

const tenths = 10;

interface Counts {
  resolved: number[];
  probabilitySum: number[];
  read: number[];
}

export class CalibrationCollector {
  readonly #byReason = new Map<ComputeReason, Counts>();

  /** A result that carried `probability` resolved: `read` at least once while fresh, or not. */
  resolve(reason: ComputeReason, probability: number, read: boolean): void {
    if (!Number.isFinite(probability)) return;
    let c = this.#byReason.get(reason);
    if (c === undefined) {
      c = {
        resolved: new Array<number>(tenths).fill(0),
        probabilitySum: new Array<number>(tenths).fill(0),
        read: new Array<number>(tenths).fill(0),
      };
      this.#byReason.set(reason, c);
    }
    const p = Math.min(1, Math.max(0, probability));
    const i = Math.min(tenths - 1, Math.floor(p * tenths));
    c.resolved[i]!++;
    c.probabilitySum[i]! += p;
    if (read) c.read[i]!++;
  }

  /** The bins that hold any result, by reason then probability. */
  bins(): CalibrationBin[] {
    const out: CalibrationBin[] = [];
    for (const [reason, c] of [...this.#byReason].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
      for (let i = 0; i < tenths; i++) {
        const n = c.resolved[i]!;
        if (n === 0) continue;
        out.push({
          reason,
          lower: i / tenths,
          resolved: n,
          meanProbability: c.probabilitySum[i]! / n,
          readShare: c.read[i]! / n,
        });
      }
    return out;
  }
}
