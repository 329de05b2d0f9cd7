import { readFile } from "node:fs/promises";
import { FailedPreconditionError } from "@prescient/core";
import type { Logger } from "@prescient/kit";
import { type InferenceSession, Tensor } from "onnxruntime-node";
import {
  type BatchRunner,
  DynamicBatcher,
  type InferOutcome,
  type SubmitOptions,
} from "../batching/dynamic-batcher.js";
import { InferenceMetrics, type VersionSeries } from "../metrics.js";
import {
  type Datatype,
  datatypeOfOrt,
  datatypes,
  type HostTensor,
  type TypedArray,
} from "../tensors/datatypes.js";
import { createSessions, type InstanceSession } from "./execution-providers.js";
import type { ExecutionProviderName, ModelConfig } from "./model-config.js";
import { type WorkerOutput, WorkerSession, type WorkerTensor } from "./worker-session.js";

/** A tensor as the model declares it; -1 marks a dimension of any size (the batch dimension among them). */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

/** One loaded version of a model: its sessions (one per instance), tensor metadata and batcher. */
export class ModelVersion {
  readonly model: string;
  readonly version: number;
  readonly config: ModelConfig;
  readonly provider: ExecutionProviderName;
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  /** This version's metric series. */
  readonly metrics: VersionSeries;
  readonly #sessions: InstanceSession[];
  readonly #batcher: DynamicBatcher;

  constructor(
    model: string,
    version: number,
    config: ModelConfig,
    started: { provider: ExecutionProviderName; sessions: InstanceSession[] },
  ) {
    this.model = model;
    this.version = version;
    this.config = config;
    this.provider = started.provider;
    this.#sessions = started.sessions;
    const label = `${model} version ${version}`;
    const first = started.sessions[0]!;
    this.inputs = first.inputMetadata.map((m) => specOf(m, label, "input"));
    this.outputs = first.outputMetadata.map((m) => specOf(m, label, "output"));
    if (config.maxBatchSize > 0) {
      for (const t of [...this.inputs, ...this.outputs]) {
        if (t.shape.length === 0 || t.shape[0] !== -1)
          throw new FailedPreconditionError(
            `${label}: max_batch_size is ${config.maxBatchSize} but tensor ${t.name} has no variable first (batch) dimension (shape [${t.shape.join(", ")}]); set max_batch_size: 0`,
          );
      }
    }
    const metrics = InferenceMetrics.for().forVersion(model, version);
    this.metrics = metrics;
    this.#batcher = new DynamicBatcher(
      {
        maxBatchSize: config.maxBatchSize,
        dynamicBatching: config.dynamicBatching,
        preferredBatchSizes: config.preferredBatchSizes,
        maxQueueDelayMs: config.maxQueueDelayMs,
        maxQueueSize: config.maxQueueSize,
        priorityLevels: config.priorityLevels,
      },
      this.#sessions.map((s) => this.#runner(s)),
      undefined,
      ({ rows, computeMs }) => {
        metrics.executions.inc();
        metrics.inferences.inc(rows);
        metrics.computeSeconds.observe(computeMs / 1000);
      },
    );
  }

  /** Whether its instances run on worker threads (run_in_worker, or the predictor's override of it). */
  get inWorkers(): boolean {
    return this.#sessions[0] instanceof WorkerSession;
  }

  /** The thread id of each instance's worker (-1 while one is being replaced); none on the event loop. */
  get workerThreadIds(): number[] {
    return this.#sessions.flatMap((s) => (s instanceof WorkerSession ? [s.threadId] : []));
  }

  async infer(inputs: HostTensor[], options: SubmitOptions): Promise<InferOutcome> {
    this.metrics.pending.inc();
    try {
      const outcome = await this.#batcher.submit(inputs, options);
      this.metrics.queueSeconds.observe(outcome.queueMs / 1000);
      return outcome;
    } finally {
      this.metrics.pending.dec();
    }
  }

  /** Finishes queued and running requests, then frees the sessions. */
  async close(): Promise<void> {
    await this.#batcher.close();
    await Promise.allSettled(this.#sessions.map((s) => s.release()));
  }

  /** One batch on one instance: the same tensors in and out whether it runs on this thread or a worker. */
  #runner(session: InstanceSession): BatchRunner {
    const run =
      session instanceof WorkerSession
        ? (tensors: WorkerTensor[]) => session.run(tensors)
        : (tensors: WorkerTensor[]) => runHere(session, tensors);
    return async (inputs) => {
      const results = await run(
        this.inputs.map((spec, i) => {
          const t = inputs[i]!;
          return {
            name: spec.name,
            type: datatypes[t.datatype].ort,
            dims: t.shape,
            data: t.data as TypedArray,
          };
        }),
      );
      return this.outputs.map((spec) => {
        const out = results.find((r) => r.name === spec.name);
        if (out === undefined) throw new Error(`model produced no output ${spec.name}`);
        return { datatype: spec.datatype, shape: out.dims, data: out.data as TypedArray };
      });
    };
  }
}

/** A batch on a session of this thread, taking and giving tensors as a WorkerSession does. */
async function runHere(session: InferenceSession, inputs: readonly WorkerTensor[]): Promise<WorkerOutput[]> {
  const feeds: Record<string, Tensor> = {};
  for (const t of inputs)
    feeds[t.name] = float16AsUint16(new Tensor(t.type as Tensor.Type, t.data as Float32Array, t.dims));
  const results = await session.run(feeds);
  return Object.entries(results).map(([name, out]) => ({
    name,
    dims: [...out.dims],
    data: out.data as TypedArray,
  }));
}

function specOf(meta: InferenceSession.ValueMetadata, label: string, role: string): TensorSpec {
  if (!meta.isTensor) throw new FailedPreconditionError(`${label}: ${role} ${meta.name} is not a tensor`);
  const datatype = datatypeOfOrt(meta.type);
  if (datatype === undefined)
    throw new FailedPreconditionError(
      `${label}: ${role} ${meta.name} has type ${meta.type}, which the predictor cannot serve`,
    );
  return {
    name: meta.name,
    datatype,
    shape: meta.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1)),
  };
}

/** Reads `<dir>/model.onnx` and starts its sessions on the configured providers. */
export async function loadModelVersion(
  model: string,
  version: number,
  file: string,
  config: ModelConfig,
  log: Logger,
): Promise<ModelVersion> {
  const bytes = await readFile(file);
  const started = await createSessions(
    bytes,
    {
      providers: config.executionProviders,
      fallback: config.providerFallback,
      threading: config,
      instances: config.instanceCount,
      inWorkers: config.runInWorker,
    },
    log,
    `${model} version ${version}`,
  );
  try {
    return new ModelVersion(model, version, config, started);
  } catch (e) {
    await Promise.allSettled(started.sessions.map((s) => s.release()));
    throw e;
  }
}

/**
 * Where the runtime has Float16Array (Node 24 and later), onnxruntime-common
 * turns a float16 tensor's Uint16Array into one, and onnxruntime-node 1.30's
 * binding then reads its byte length as 0 ("not enough space"). The binding
 * reads float16 as raw 16-bit words, so a Uint16Array view of the same bytes
 * is what it needs, on every Node.
 */
function float16AsUint16(tensor: Tensor): Tensor {
  if (tensor.type !== "float16" || tensor.data instanceof Uint16Array) return tensor;
  const d = tensor.data as unknown as ArrayBufferView;
  Object.defineProperty(tensor, "data", { value: new Uint16Array(d.buffer, d.byteOffset, d.byteLength / 2) });
  return tensor;
}
