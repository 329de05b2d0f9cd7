import { type ServiceError, status } from "@grpc/grpc-js";
import type { inference } from "@prescient/contracts";
import { callUnary, kitRegistry } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InferRequest, startTestPredictor, type TestPredictor } from "../predictor.test-util.js";

/** Metadata, readiness and every bad input, against the shipped example models. */
type Req = InferRequest;
const row = [1, 5, 1, 12, 3, 0.05, 0.8, 1];
const features = (
  rows: number,
  extra?: inference.DeepPartial<inference.ModelInferRequest_InferInputTensor>,
): inference.DeepPartial<inference.ModelInferRequest_InferInputTensor> => ({
  name: "features",
  datatype: "FP32",
  shape: [BigInt(rows), 8n],
  contents: { fp32Contents: Array.from({ length: rows }, () => row).flat() },
  ...extra,
});
const ctr = (r: Req): Req => ({ modelName: "ctr_prediction", inputs: [features(1)], ...r });

describe("predictor over gRPC", () => {
  let p: TestPredictor;
  beforeAll(async () => {
    p = await startTestPredictor();
    await p.runtime.ready;
  });
  afterAll(() => p.close());

  const call = <Q, R>(method: string, request: Q): Promise<R> => {
    const client = p.client as unknown as Record<string, (...a: unknown[]) => unknown>;
    return callUnary(client[method]!.bind(p.client) as never, request);
  };

  it("is live and ready, and health says SERVING once the models are loaded", async () => {
    expect(await call("serverLive", {})).toEqual({ live: true });
    expect(await call("serverReady", {})).toEqual({ ready: true });
    expect(p.host.servingStatus("inference.GRPCInferenceService")).toBe("SERVING");
    expect(await call("modelReady", { name: "ctr_prediction", version: "1" })).toEqual({ ready: true });
    expect(await call("modelReady", { name: "ctr_prediction", version: "7" })).toEqual({ ready: false });
    expect(await call("modelReady", { name: "nope", version: "" })).toEqual({ ready: false });
    const meta = await call<unknown, inference.ServerMetadataResponse>("serverMetadata", {});
    expect(meta.name).toBe("prescient-predictor");
    expect(meta.extensions).toContain("binary_tensor_data");
  });

  it("describes a model's tensors, per version", async () => {
    const meta = await call<unknown, inference.ModelMetadataResponse>("modelMetadata", {
      name: "roas_prediction",
      version: "",
    });
    expect(meta).toMatchObject({
      name: "roas_prediction",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "features", datatype: "FP32", shape: [-1n, 8n] }],
      outputs: [{ name: "roas", datatype: "FP32", shape: [-1n, 1n] }],
    });
    expect(meta.properties.execution_provider).toBe("cpu");
    await expect(call("modelMetadata", { name: "roas_prediction", version: "2" })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
  });

  it("infers a batch of rows and honours requested outputs", async () => {
    const res = await p.infer(
      ctr({ inputs: [features(3)], outputs: [{ name: "probability", parameters: {} }] }),
    );
    expect(res.outputs[0]!.shape).toEqual([3n, 1n]);
    const [a, b, c] = res.outputs[0]!.contents!.fp32Contents;
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThan(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  const cases: Array<[string, Req, status, RegExp]> = [
    [
      "unknown model",
      { modelName: "nope" },
      status.NOT_FOUND,
      /model "nope" is not ready; ready models: .*ctr_prediction/,
    ],
    [
      "unknown version",
      { modelVersion: "9" },
      status.NOT_FOUND,
      /ctr_prediction version 9 is not loaded; ready versions: 1/,
    ],
    ["malformed version", { modelVersion: "v1" }, status.INVALID_ARGUMENT, /"v1" is not a version number/],
    [
      "unknown input",
      { inputs: [features(1, { name: "feat" })] },
      status.INVALID_ARGUMENT,
      /unknown input "feat"; model ctr_prediction expects features \(FP32 \[-1, 8\]\)/,
    ],
    [
      "missing input",
      { inputs: [] },
      status.INVALID_ARGUMENT,
      /missing input features; model ctr_prediction expects features/,
    ],
    [
      "duplicate input",
      { inputs: [features(1), features(1)] },
      status.INVALID_ARGUMENT,
      /input "features" appears twice/,
    ],
    [
      "wrong datatype",
      { inputs: [features(1, { datatype: "FP64" })] },
      status.INVALID_ARGUMENT,
      /input features: datatype "FP64" does not match the model's FP32/,
    ],
    [
      "wrong rank",
      { inputs: [features(1, { shape: [8n] })] },
      status.INVALID_ARGUMENT,
      /input features: shape \[8\] has 1 dimensions; the model expects \[-1, 8\]/,
    ],
    [
      "wrong width",
      { inputs: [features(1, { shape: [1n, 7n] })] },
      status.INVALID_ARGUMENT,
      /input features: shape \[1, 7\] does not match the model's \[-1, 8\] at dimension 1/,
    ],
    [
      "negative dimension",
      { inputs: [features(1, { shape: [-1n, 8n] })] },
      status.INVALID_ARGUMENT,
      /input features: shape \[-1, 8\] does not match/,
    ],
    [
      "short contents",
      { inputs: [features(1, { shape: [2n, 8n] })] },
      status.INVALID_ARGUMENT,
      /input features: fp32_contents holds 8 values; shape \[2, 8\] needs 16/,
    ],
    [
      "contents in the wrong field",
      { inputs: [features(1, { contents: { fp64Contents: row } as inference.InferTensorContents })] },
      status.INVALID_ARGUMENT,
      /input features: FP32 values go in fp32_contents, not fp64_contents/,
    ],
    [
      "raw byte length",
      { inputs: [features(1, { contents: undefined })], rawInputContents: [Buffer.alloc(31)] },
      status.INVALID_ARGUMENT,
      /input features: raw_input_contents holds 31 bytes; shape \[1, 8\] of FP32 needs 32/,
    ],
    [
      "raw entry count",
      {
        inputs: [features(1, { contents: undefined })],
        rawInputContents: [Buffer.alloc(32), Buffer.alloc(32)],
      },
      status.INVALID_ARGUMENT,
      /raw_input_contents has 2 entries for 1 inputs/,
    ],
    [
      "raw and contents",
      { rawInputContents: [Buffer.alloc(32)] },
      status.INVALID_ARGUMENT,
      /input features: has both contents and raw_input_contents/,
    ],
    [
      "unknown output",
      { outputs: [{ name: "prob", parameters: {} }] },
      status.INVALID_ARGUMENT,
      /unknown output "prob"; model ctr_prediction has probability/,
    ],
    [
      "too many rows",
      { inputs: [features(257)] },
      status.INVALID_ARGUMENT,
      /request has 257 rows; the model's max_batch_size is 256/,
    ],
    [
      // Refused on its shape, before its bytes are sized or copied: a 16 MB body costs nothing more.
      "too many rows in raw bytes of the wrong size",
      { inputs: [features(500_000, { contents: undefined })], rawInputContents: [Buffer.alloc(8)] },
      status.INVALID_ARGUMENT,
      /request has 500000 rows; the model's max_batch_size is 256/,
    ],
    [
      "priority out of range",
      { parameters: { priority: { int64Param: 9n } } },
      status.INVALID_ARGUMENT,
      /parameter priority 9 is outside 1..3/,
    ],
    [
      "timeout not an integer",
      { parameters: { timeout: { stringParam: "soon" } } },
      status.INVALID_ARGUMENT,
      /parameter timeout must be an integer/,
    ],
    [
      "binary_data_output not a bool",
      { parameters: { binary_data_output: { int64Param: 1n } } },
      status.INVALID_ARGUMENT,
      /binary_data_output must be a bool_param/,
    ],
  ];
  for (const [what, request, code, message] of cases) {
    it(`rejects ${what}`, async () => {
      const error = (await p.infer(ctr(request)).catch((e: unknown) => e)) as ServiceError;
      expect(error.code).toBe(code);
      expect(error.details).toMatch(message);
    });
  }

  it("accepts Triton's priority and timeout parameters and an early gRPC deadline", async () => {
    const res = await p.infer(
      ctr({ parameters: { priority: { int64Param: 1n }, timeout: { int64Param: 5_000_000n } } }),
      5000,
    );
    expect(res.outputs).toHaveLength(1);
  });

  it("counts requests, inferences and executions per model and version", async () => {
    await Promise.all([1, 2, 3].map(() => p.infer(ctr({ inputs: [features(2)] }))));
    const text = await kitRegistry.metrics();
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{model="ctr_prediction",version="1"\\} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("prescient_inference_request_success")).toBeGreaterThanOrEqual(3);
    expect(value("prescient_inference_count")).toBeGreaterThan(value("prescient_inference_exec_count"));
    expect(text).toMatch(
      /prescient_inference_request_failure\{model="ctr_prediction",version="1",reason="invalid"\} \d+/,
    );
    expect(text).toMatch(
      /prescient_inference_queue_duration_seconds_bucket\{le="0.001",model="ctr_prediction",version="1"\}/,
    );
    expect(text).toMatch(
      /prescient_inference_compute_infer_duration_seconds_count\{model="ctr_prediction",version="1"\}/,
    );
  });
});
