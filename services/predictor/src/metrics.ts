import { kitRegistry } from "@prescient/kit";
import { Counter, Gauge, Histogram } from "prom-client";

/**
 * Per model and version, after Triton's nv_inference_* set under a
 * `prescient_` prefix: inference_count / exec_count is the mean batch size.
 */
const labelNames = ["model", "version"] as const;
const buckets = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

export const inferenceMetrics = {
  success: new Counter({
    name: "prescient_inference_request_success",
    help: "Inference requests answered successfully.",
    labelNames,
    registers: [kitRegistry],
  }),
  failure: new Counter({
    name: "prescient_inference_request_failure",
    help: "Inference requests that failed, by reason (invalid, timeout, queue_full, cancelled, error).",
    labelNames: [...labelNames, "reason"] as const,
    registers: [kitRegistry],
  }),
  inferences: new Counter({
    name: "prescient_inference_count",
    help: "Inferences performed: rows along the batch dimension.",
    labelNames,
    registers: [kitRegistry],
  }),
  executions: new Counter({
    name: "prescient_inference_exec_count",
    help: "Model executions (batches) run; inference_count / exec_count is the mean batch size.",
    labelNames,
    registers: [kitRegistry],
  }),
  pending: new Gauge({
    name: "prescient_inference_pending_request_count",
    help: "Requests waiting in the batcher's queue.",
    labelNames,
    registers: [kitRegistry],
  }),
  queueSeconds: new Histogram({
    name: "prescient_inference_queue_duration_seconds",
    help: "Time a request waited in the queue before its batch ran.",
    labelNames,
    buckets,
    registers: [kitRegistry],
  }),
  computeSeconds: new Histogram({
    name: "prescient_inference_compute_infer_duration_seconds",
    help: "Time one batch spent in the model (merge, run, split).",
    labelNames,
    buckets,
    registers: [kitRegistry],
  }),
  requestSeconds: new Histogram({
    name: "prescient_inference_request_duration_seconds",
    help: "Time from decoding a request to encoding its answer.",
    labelNames,
    buckets,
    registers: [kitRegistry],
  }),
};
