import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type { inference } from "@prescient/contracts";
import { isCancelled, isDeadlineExceeded, isInvalidArgument, isResourceExhausted } from "@prescient/core";
import { type CallContext, unary } from "@prescient/kit";
import { annotateActiveSpan, domainAttribute as attr } from "@prescient/tracing";
import { preciseClock } from "../batching/dynamic-batcher.js";
import type { ModelRepository } from "../repository/model-repository.js";
import { decodeInputs } from "../tensors/decode-inputs.js";
import { encodeOutputs, planOutputs } from "../tensors/encode-outputs.js";
import { scheduleOf } from "./request-schedule.js";

export const inferenceServiceName = "inference.GRPCInferenceService";

export interface InferenceServiceDeps {
  repository: ModelRepository;
  /** Whether the configured models are loaded (ServerReady, health). */
  isReady: () => boolean;
  serverName: string;
  serverVersion: string;
}

/** Protocol extensions this server implements, named as in the KServe/Triton protocol. */
const extensions = ["binary_tensor_data", "parameters", "schedule_policy"];

/** The Open Inference Protocol v2 service: a thin adapter over the repository and each version's batcher. */
export function inferenceService(deps: InferenceServiceDeps): UntypedServiceImplementation {
  const { repository } = deps;
  const rpc = <Req, Res>(method: string, handler: (request: Req, ctx: CallContext) => Promise<Res>) =>
    unary<Req, Res>(inferenceServiceName, method, handler);

  const modelInfer = async (
    request: inference.ModelInferRequest,
    ctx: CallContext,
  ): Promise<inference.ModelInferResponse> => {
    const started = preciseClock.now();
    const version = repository.resolve(request.modelName, request.modelVersion);
    annotateActiveSpan({
      [attr.modelName]: version.model,
      [attr.modelVersion]: String(version.version),
      // Rows, as the first dimension of the first input says (the batch dimension for batched models).
      [attr.batchSize]: Number(request.inputs[0]?.shape[0] ?? 0),
    });
    try {
      const inputs = decodeInputs(request, {
        model: version.model,
        inputs: version.inputs,
        maxBatchSize: version.config.maxBatchSize,
      });
      const plan = planOutputs(request, version.outputs, version.model);
      const schedule = scheduleOf(request, version.config, ctx, started);
      const outcome = await version.infer(inputs, schedule);
      const encoded = encodeOutputs(outcome.outputs, version.outputs, plan);
      version.metrics.success.inc();
      version.metrics.requestSeconds.observe((preciseClock.now() - started) / 1000);
      return {
        modelName: version.model,
        modelVersion: String(version.version),
        id: request.id,
        parameters: {},
        ...encoded,
      };
    } catch (e) {
      version.metrics.failure(failureReason(e));
      throw e;
    }
  };

  return {
    serverLive: rpc("ServerLive", async () => ({ live: true })),
    serverReady: rpc("ServerReady", async () => ({ ready: deps.isReady() })),
    modelReady: rpc("ModelReady", async (r: inference.ModelReadyRequest) => ({
      ready: repository.isReady(r.name, r.version),
    })),
    serverMetadata: rpc(
      "ServerMetadata",
      async (): Promise<inference.ServerMetadataResponse> => ({
        name: deps.serverName,
        version: deps.serverVersion,
        extensions,
      }),
    ),
    modelMetadata: rpc("ModelMetadata", async (r: inference.ModelMetadataRequest) =>
      modelMetadata(repository, r),
    ),
    modelInfer: rpc("ModelInfer", modelInfer),
  };
}

function modelMetadata(
  repository: ModelRepository,
  r: inference.ModelMetadataRequest,
): inference.ModelMetadataResponse {
  const chosen = repository.resolve(r.name, r.version);
  const versions = r.version === "" ? repository.readyVersions(r.name) : [chosen];
  const tensor = (t: { name: string; datatype: string; shape: number[] }) => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape.map(BigInt),
  });
  return {
    name: chosen.model,
    versions: versions.map((v) => String(v.version)),
    platform: "onnxruntime_onnx",
    inputs: chosen.inputs.map(tensor),
    outputs: chosen.outputs.map(tensor),
    properties: {
      max_batch_size: String(chosen.config.maxBatchSize),
      execution_provider: chosen.provider,
      priority_levels: String(chosen.config.priorityLevels),
    },
  };
}

function failureReason(e: unknown): string {
  if (isInvalidArgument(e)) return "invalid";
  if (isDeadlineExceeded(e)) return "timeout";
  if (isResourceExhausted(e)) return "queue_full";
  if (isCancelled(e)) return "cancelled";
  return "error";
}
