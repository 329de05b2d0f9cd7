import { errorMessage } from "@prescient/core";
import { type AnalyzerLog, silentLog } from "./analyzer-log.js";
import type { ModelPublisher, NextActionScorer } from "./model/ports.js";
import type { Metrics } from "./next-action/metrics.js";
import { exportNextActionOnnx } from "./next-action/onnx-export.js";
import { retrainNextAction } from "./next-action/trainer.js";
import type { NextActionPredictor } from "./next-action-predictor.js";
import type { AnalyzerSettings } from "./settings.js";
import type { AnalyzerStore } from "./store/analyzer-store.js";

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
  #retraining: Promise<RetrainReport> | undefined;

  constructor(deps: NextActionRetrainerDeps) {
    this.#settings = deps.settings;
    this.#store = deps.store;
    this.#publisher = deps.publisher;
    this.#scorer = deps.scorer;
    this.#log = deps.log ?? silentLog;
    this.#predictor = deps.predictor;
  }

  /** Retrains now; a call while one runs shares its result. */
  retrain(): Promise<RetrainReport> {
    this.#retraining ??= this.#retrain().finally(() => {
      this.#retraining = undefined;
    });
    return this.#retraining;
  }

  async #retrain(): Promise<RetrainReport> {
    const predictor = this.#predictor;
    await predictor.syncCurrent();
    const histories = await this.#store.histories();
    const outcome = retrainNextAction(
      histories,
      this.#settings.nextAction,
      this.#settings.sessionGapMs,
      predictor.current?.model,
    );
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
    return {
      candidate: outcome.candidate,
      current: outcome.current,
      markov: outcome.markov,
      frequency: outcome.frequency,
      promoted,
      version,
      explanation,
    };
  }
}
