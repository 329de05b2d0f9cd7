import { kitRegistry } from "@prescient/kit";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** What the model_ready gauge reads: every known version and whether it serves. */
export interface VersionStates {
  list(): Promise<Array<{ model: string; version: number; state: string }>>;
}

const labelNames = ["model", "version"] as const;
const buckets = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** One model version's series, resolved once when it loads so each request only increments. */
export interface VersionSeries {
  success: Counter.Internal;
  inferences: Counter.Internal;
  executions: Counter.Internal;
  pending: Gauge.Internal<"model" | "version">;
  queueSeconds: Histogram.Internal<"model" | "version">;
  computeSeconds: Histogram.Internal<"model" | "version">;
  requestSeconds: Histogram.Internal<"model" | "version">;
  failure(reason: string): void;
}

/**
 * Per model and version, after Triton's nv_inference_* set under a
 * `prescient_` prefix: inference_count / exec_count is the mean batch size.
 * Registered when a predictor starts (not on import, so a process serving
 * another service does not export them); one instance per registry.
 */
export class InferenceMetrics {
  static #byRegistry = new WeakMap<Registry, InferenceMetrics>();

  static for(registry: Registry = kitRegistry): InferenceMetrics {
    let metrics = InferenceMetrics.#byRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new InferenceMetrics(registry);
      InferenceMetrics.#byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  readonly success: Counter<"model" | "version">;
  readonly failure: Counter<"model" | "version" | "reason">;
  readonly inferences: Counter<"model" | "version">;
  readonly executions: Counter<"model" | "version">;
  readonly pending: Gauge<"model" | "version">;
  readonly queueSeconds: Histogram<"model" | "version">;
  readonly computeSeconds: Histogram<"model" | "version">;
  readonly requestSeconds: Histogram<"model" | "version">;
  readonly modelReady: Gauge<"model" | "version">;
  /** Where model_ready reads from: the most recently started predictor's repository. */
  repository: VersionStates | undefined;

  private constructor(registry: Registry) {
    const registers = [registry];
    this.success = new Counter({
      name: "prescient_inference_request_success",
      help: "Inference requests answered successfully.",
      labelNames,
      registers,
    });
    this.failure = new Counter({
      name: "prescient_inference_request_failure",
      help: "Inference requests that failed, by reason (invalid, timeout, queue_full, cancelled, error).",
      labelNames: [...labelNames, "reason"] as const,
      registers,
    });
    this.inferences = new Counter({
      name: "prescient_inference_count",
      help: "Inferences performed: rows along the batch dimension.",
      labelNames,
      registers,
    });
    this.executions = new Counter({
      name: "prescient_inference_exec_count",
      help: "Model executions (batches) run; inference_count / exec_count is the mean batch size.",
      labelNames,
      registers,
    });
    this.pending = new Gauge({
      name: "prescient_inference_pending_request_count",
      help: "Requests waiting in the batcher's queue.",
      labelNames,
      registers,
    });
    this.queueSeconds = new Histogram({
      name: "prescient_inference_queue_duration_seconds",
      help: "Time a request waited in the queue before its batch ran.",
      labelNames,
      buckets,
      registers,
    });
    this.computeSeconds = new Histogram({
      name: "prescient_inference_compute_infer_duration_seconds",
      help: "Time one batch spent in the model (merge, run, split).",
      labelNames,
      buckets,
      registers,
    });
    this.requestSeconds = new Histogram({
      name: "prescient_inference_request_duration_seconds",
      help: "Time from decoding a request to encoding its answer.",
      labelNames,
      buckets,
      registers,
    });
    const source = (): VersionStates | undefined => this.repository;
    this.modelReady = new Gauge({
      name: "prescient_inference_model_ready",
      help: "1 while a model version is loaded and ready to serve, 0 while it is loading, unloaded or failed.",
      labelNames,
      registers,
      async collect() {
        const repository = source();
        if (repository === undefined) return;
        const versions = await repository.list().catch(() => undefined);
        if (versions === undefined) return;
        // A version the repository forgot (its files removed) drops out rather than reading ready.
        this.reset();
        for (const v of versions) this.labels(v.model, String(v.version)).set(v.state === "READY" ? 1 : 0);
      },
    });
  }

  forVersion(model: string, version: number): VersionSeries {
    const v = String(version);
    const failures = new Map<string, Counter.Internal>();
    return {
      success: this.success.labels(model, v),
      inferences: this.inferences.labels(model, v),
      executions: this.executions.labels(model, v),
      pending: this.pending.labels(model, v),
      queueSeconds: this.queueSeconds.labels(model, v),
      computeSeconds: this.computeSeconds.labels(model, v),
      requestSeconds: this.requestSeconds.labels(model, v),
      failure: (reason) => {
        let child = failures.get(reason);
        if (child === undefined) {
          child = this.failure.labels(model, v, reason);
          failures.set(reason, child);
        }
        child.inc();
      },
    };
  }
}
