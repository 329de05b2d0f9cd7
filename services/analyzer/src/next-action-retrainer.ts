import { errorMessage } from "@prescient/core";
import { type AnalyzerLog, silentLog } from "./analyzer-log.js";
import { type AnalyzerObserver, unobserved } from "./analyzer-observer.js";
import type { ModelPublisher, NextActionScorer } from "./model/ports.js";
import type { Metrics } from "./next-action/metrics.js";
import { exportNextActionOnnx } from "./next-action/onnx-export.js";
import type { NextActionModel } from "./next-action/softmax-regression.js";
import { type RetrainOutcome, retrainNextAction, sameSpec } from "./next-action/trainer.js";
import type { NextActionPredictor } from "./next-action-predictor.js";
import type { AnalyzerSettings } from "./settings.js";
import type { AnalyzerStore, UserHistory } from "./store/analyzer-store.js";

export interface RetrainReport {
  candidate: Metrics | undefined;
  current: Metrics | undefined;
  markov: Metrics;
  frequency: Metrics;
  promoted: boolean;
  version: string;
  explanation: string;
}

export interface NextActionRetrainerDeps {
  settings: AnalyzerSettings;
  store: AnalyzerStore;
  publisher: ModelPublisher;
  scorer: NextActionScorer;
  log?: AnalyzerLog | undefined;
  /** The predictor that serves what this promotes, and the Markov fallback each retrain refits. */
  predictor: NextActionPredictor;
  observer?: AnalyzerObserver;
}

/**
 * Retrains the next-action model from the action logs; a candidate that beats
 * the current model is published, handed to the scorer and served at once.
 */
export class NextActionRetrainer {
  readonly #settings: AnalyzerSettings;
  readonly #store: AnalyzerStore;
  readonly #publisher: ModelPublisher;
  readonly #scorer: NextActionScorer;
  readonly #log: AnalyzerLog;
  readonly #predictor: NextActionPredictor;
  readonly #observer: AnalyzerObserver;
  #retraining: Promise<RetrainReport> | undefined;
  /** The last round that completed, and when (see retrain). */
  #completed: { report: RetrainReport; at: number } | undefined;
  /** The last round's inputs and outcome (see #round). */
  #last:
    | { histories: UserHistory[]; current: NextActionModel | undefined; outcome: RetrainOutcome }
    | undefined;

  constructor(deps: NextActionRetrainerDeps) {
    this.#settings = deps.settings;
    this.#store = deps.store;
    this.#publisher = deps.publisher;
    this.#scorer = deps.scorer;
    this.#log = deps.log ?? silentLog;
    this.#predictor = deps.predictor;
    this.#observer = deps.observer ?? unobserved;
  }

  /**
   * Retrains now; a call while one runs shares its result, and a call within
   * `retrainMinIntervalMs` of the end of the last completed round answers
   * that round's report (its explanation says so) without training again.
   * A failed round does not count: the next call retrains.
   */
  retrain(): Promise<RetrainReport> {
    if (this.#retraining !== undefined) return this.#retraining;
    const recent = this.#recent();
    if (recent !== undefined) {
      this.#observer.retrained("coalesced");
      return Promise.resolve(recent);
    }
    this.#retraining = this.#retrain()
      .then(
        ({ report, trained }) => {
          this.#completed = { report, at: this.#settings.clock.now() };
          this.#observer.retrained(trained ? "trained" : "skipped");
          return report;
        },
        (e: unknown) => {
          this.#observer.retrained("failed");
          throw e;
        },
      )
      .finally(() => {
        this.#retraining = undefined;
      });
    return this.#retraining;
  }

  /** The last completed round's report, said to be that, while within the minimum interval; else undefined. */
  #recent(): RetrainReport | undefined {
    const last = this.#completed;
    const min = this.#settings.retrainMinIntervalMs;
    if (last === undefined || !(min > 0)) return undefined;
    const age = this.#settings.clock.now() - last.at;
    // A clock that went back (a replay restarted) does not hold rounds off.
    if (!(age >= 0 && age < min)) return undefined;
    return {
      ...last.report,
      explanation: `${last.report.explanation}; not retrained: this is the report of the round that ended ${age} ms ago, and rounds are at least ${min} ms apart`,
    };
  }

  /** The round's report, and whether it trained a candidate (not reused, and enough data). */
  async #retrain(): Promise<{ report: RetrainReport; trained: boolean }> {
    const predictor = this.#predictor;
    await predictor.syncCurrent();
    const { outcome, reused } = this.#round(await this.#store.histories(), predictor.current?.model);
    predictor.refitted(outcome.fallback, this.#settings.clock.now());
    const current = predictor.current;
    let version = current === undefined ? "" : String(current.version);
    let promoted = false;
    let explanation = outcome.explanation;
    if (outcome.promote && outcome.model !== undefined) {
      const bytes = exportNextActionOnnx(outcome.model, outcome.explanation);
      const published = await this.#publisher.publish(bytes);
      predictor.adopt(published, outcome.model);
      version = String(published);
      promoted = true;
      await this.#scorer.modelPublished({ version: published, bytes }).catch((e: unknown) => {
        // The predictor's poller will still find it; until then the Markov fallback answers.
        explanation += `; the predictor did not load it yet: ${errorMessage(e)}`;
      });
      this.#log.info({ version: published, candidate: outcome.candidate }, "published next-action model");
    }
    const report: RetrainReport = {
      candidate: outcome.candidate,
      current: outcome.current,
      markov: outcome.markov,
      frequency: outcome.frequency,
      promoted,
      version,
      explanation,
    };
    return { report, trained: !reused && outcome.model !== undefined };
  }

  /**
   * One retraining round. A round is a pure function of the histories and the
   * current model, so when neither changed since the last round (no actions
   * in an hour, say) its outcome is the last one's, without training again.
   */
  #round(
    histories: UserHistory[],
    current: NextActionModel | undefined,
  ): { outcome: RetrainOutcome; reused: boolean } {
    const last = this.#last;
    const reused =
      last !== undefined && sameModel(last.current, current) && sameHistories(last.histories, histories);
    const outcome = reused
      ? last.outcome
      : retrainNextAction(histories, this.#settings.nextAction, this.#settings.sessionGapMs, current);
    this.#last = { histories, current, outcome };
    return { outcome, reused };
  }
}

function sameHistories(a: readonly UserHistory[], b: readonly UserHistory[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.tenant !== y.tenant || x.userId !== y.userId || x.actions.length !== y.actions.length) return false;
    for (let j = 0; j < x.actions.length; j++) {
      const p = x.actions[j]!;
      const q = y.actions[j]!;
      if (!Object.is(p.time, q.time) || p.action !== q.action) return false;
    }
  }
  return true;
}

/** Models that predict alike: the same spec and the same weights, bit for bit. */
function sameModel(a: NextActionModel | undefined, b: NextActionModel | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return sameBits(a.weights, b.weights) && sameBits(a.bias, b.bias) && sameSpec(a.spec, b.spec);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
