import { errorMessage, InvalidArgumentError, validateTenant } from "@prescient/core";
import { type AnalyzerLog, silentLog } from "./analyzer-log.js";
import type { ModelPublisher, NextActionScorer } from "./model/ports.js";
import { type Distribution, MarkovBaseline, topActions } from "./next-action/baselines.js";
import { actionPairs } from "./next-action/examples.js";
import { denseRows, encodeFeatures, featureWidth } from "./next-action/features.js";
import { importNextActionOnnx } from "./next-action/onnx-export.js";
import { type NextActionModel, toDistribution } from "./next-action/softmax-regression.js";
import type { AnalyzerSettings } from "./settings.js";
import type { AnalyzerStore } from "./store/analyzer-store.js";

export type PredictionSource = "model" | "markov" | "frequency";

export interface NextActionPrediction {
  actions: Array<{ action: string; probability: number }>;
  source: PredictionSource;
  modelVersion: string;
  fallbackReason: string;
}

export interface NextActionPredictorDeps {
  settings: AnalyzerSettings;
  store: AnalyzerStore;
  publisher: ModelPublisher;
  scorer: NextActionScorer;
  log?: AnalyzerLog | undefined;
}

/** A user's actions read for features: far more than any feature looks back. */
const historyWindow = 64;
/** How long the Markov fallback is trusted before it is refitted from the logs. */
const fallbackRefitMs = 10 * 60_000;

/**
 * Predicts a user's next actions with the current published model, through
 * the scorer; falls back to the Markov baseline (refitted from the logs when
 * stale) and, for an unknown last action or user, to action frequencies.
 */
export class NextActionPredictor {
  readonly #settings: AnalyzerSettings;
  readonly #store: AnalyzerStore;
  readonly #publisher: ModelPublisher;
  readonly #scorer: NextActionScorer;
  readonly #log: AnalyzerLog;
  #current: { version: number; model: NextActionModel } | undefined;
  #fallback: { markov: MarkovBaseline; fittedAt: number } | undefined;
  #fallbackFit: Promise<MarkovBaseline> | undefined;

  constructor(deps: NextActionPredictorDeps) {
    this.#settings = deps.settings;
    this.#store = deps.store;
    this.#publisher = deps.publisher;
    this.#scorer = deps.scorer;
    this.#log = deps.log ?? silentLog;
  }

  /** The model served now, with its published version. */
  get current(): { version: number; model: NextActionModel } | undefined {
    return this.#current;
  }

  /** Serves a model just published as `version`. */
  adopt(version: number, model: NextActionModel): void {
    this.#current = { version, model };
  }

  /** Takes a Markov fallback fitted elsewhere (by a retrain) at `fittedAt`. */
  refitted(markov: MarkovBaseline, fittedAt: number): void {
    this.#fallback = { markov, fittedAt };
  }

  /** An empty fallback (cold start) is refitted as soon as there is something to fit. */
  actionsRecorded(accepted: number): void {
    if (accepted > 0 && this.#fallback?.markov.trained === false) this.#fallback = undefined;
  }

  async predict(request: {
    tenant: string;
    userId: string;
    limit: number;
    at?: number | undefined;
  }): Promise<NextActionPrediction> {
    validateTenant(request.tenant);
    if (request.userId === "") throw new InvalidArgumentError("user_id is empty");
    const limit = request.limit === 0 ? 5 : request.limit;
    if (!Number.isInteger(limit) || limit < 0 || limit > 1000)
      throw new InvalidArgumentError("limit must be from 0 to 1000");
    const at = request.at ?? this.#settings.clock.now();
    const history = (await this.#store.userActions(request.tenant, request.userId, historyWindow)).filter(
      (a) => a.time <= at,
    );
    const fallback = await this.#fallbackModel();
    const answer = (
      source: PredictionSource,
      d: Distribution,
      reason: string,
      version = "",
    ): NextActionPrediction => ({
      actions: topActions(d, limit),
      source,
      modelVersion: version,
      fallbackReason: reason,
    });
    if (history.length === 0)
      return answer("frequency", fallback.frequencies, "no actions recorded for this user");
    const markov = (reason: string): NextActionPrediction => {
      const { distribution, backedOff } = fallback.predict(history.at(-1)?.action);
      return backedOff
        ? answer("frequency", distribution, `${reason}; the last action has no recorded successors`)
        : answer("markov", distribution, reason);
    };
    const current = this.#current;
    if (current === undefined) return markov("no next-action model has been trained yet");
    const { model, version } = current;
    const width = featureWidth(model.spec);
    try {
      const probabilities = await this.#scorer.score({
        version,
        features: denseRows([encodeFeatures(history, at, model.spec)], width),
        rows: 1,
        width,
        classes: model.classes,
      });
      return answer("model", toDistribution(model.spec.actions, probabilities), "", String(version));
    } catch (e) {
      return markov(`next-action model unavailable (${this.#scorer.description}): ${errorMessage(e)}`);
    }
  }

  /** Adopts a newer version another replica (or an earlier run) published. */
  async syncCurrent(): Promise<void> {
    const latest = await this.#publisher.latest();
    if (latest === undefined || latest.version === this.#current?.version) return;
    try {
      this.#current = { version: latest.version, model: importNextActionOnnx(latest.bytes) };
      await this.#scorer
        .modelPublished(latest)
        .catch((e: unknown) =>
          this.#log.warn(
            { err: errorMessage(e), version: latest.version },
            "scorer could not load the model",
          ),
        );
    } catch (e) {
      this.#log.warn(
        { err: errorMessage(e), version: latest.version },
        "ignoring an unreadable next-action model",
      );
    }
  }

  /** The Markov fallback, refitted from the logs when no retrain has run for a while (one fit at a time). */
  async #fallbackModel(): Promise<MarkovBaseline> {
    const now = this.#settings.clock.now();
    if (this.#fallback !== undefined && now - this.#fallback.fittedAt <= fallbackRefitMs)
      return this.#fallback.markov;
    this.#fallbackFit ??= this.#store
      .histories()
      .then((histories) => {
        const markov = new MarkovBaseline().fit(actionPairs(histories));
        this.#fallback = { markov, fittedAt: now };
        return markov;
      })
      .finally(() => {
        this.#fallbackFit = undefined;
      });
    return this.#fallbackFit;
  }
}
