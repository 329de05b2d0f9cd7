import { type ServiceError, status } from "@grpc/grpc-js";
import { inference, predictorV1 } from "@prescient/contracts";
import { NotFoundError, UnavailableError } from "@prescient/core";
import { callUnary, clientChannelOptions, peerCredentials } from "@prescient/kit";
import { nextActionTensors } from "../next-action/onnx-export.js";
import type { NextActionScorer, PublishedModel, ScoreRequest } from "./ports.js";

/**
 * Scores through the predictor over the Open Inference Protocol v2
 * (ModelInfer), so the next-action model is served and batched like any
 * other. It asks for the exact version whose feature spec the analyzer holds;
 * a predictor that has not loaded it yet answers NOT_FOUND, and the analyzer
 * falls back to Markov meanwhile. Publishing asks the predictor to load the
 * model at once (LoadModel) rather than waiting for its next poll.
 */
const isServiceError = (e: unknown): e is ServiceError =>
  typeof e === "object" && e !== null && "code" in e && "details" in e;

export class OipScorer implements NextActionScorer {
  readonly description: string;
  readonly #inference: inference.GRPCInferenceServiceClient;
  readonly #repository: predictorV1.ModelRepositoryServiceClient;
  readonly #model: string;
  readonly #timeoutMs: number;

  constructor(address: string, model: string, timeoutMs: number) {
    this.description = `predictor ${address}`;
    const creds = peerCredentials();
    this.#inference = new inference.GRPCInferenceServiceClient(address, creds, clientChannelOptions());
    this.#repository = new predictorV1.ModelRepositoryServiceClient(address, creds, clientChannelOptions());
    this.#model = model;
    this.#timeoutMs = timeoutMs;
  }

  async score(r: ScoreRequest): Promise<Float32Array> {
    const raw = Buffer.from(r.features.buffer, r.features.byteOffset, r.features.byteLength);
    let response: inference.ModelInferResponse;
    try {
      response = await callUnary(
        this.#inference.modelInfer.bind(this.#inference),
        {
          modelName: this.#model,
          modelVersion: String(r.version),
          id: "",
          parameters: {},
          inputs: [
            {
              name: nextActionTensors.input,
              datatype: "FP32",
              shape: [BigInt(r.rows), BigInt(r.width)],
              parameters: {},
            },
          ],
          outputs: [{ name: nextActionTensors.output, parameters: {} }],
          rawInputContents: [raw],
        },
        { timeoutMs: this.#timeoutMs },
      );
    } catch (e) {
      if (isServiceError(e) && e.code === status.NOT_FOUND)
        throw new NotFoundError(`predictor: ${e.details}`);
      throw new UnavailableError(`predictor: ${isServiceError(e) ? e.details || e.message : String(e)}`);
    }
    const at = response.outputs.findIndex((o) => o.name === nextActionTensors.output);
    const output = response.outputs[at];
    const bytes = response.rawOutputContents[at];
    let data: Float32Array;
    if (bytes !== undefined && bytes.length > 0) {
      // Copy: the buffer may not be 4-byte aligned.
      data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    } else data = Float32Array.from(output?.contents?.fp32Contents ?? []);
    if (output === undefined || output.datatype !== "FP32" || data.length !== r.rows * r.classes)
      throw new UnavailableError(
        `predictor: next-action output does not match the model (${data.length} values for ${r.rows}×${r.classes})`,
      );
    return data;
  }

  async modelPublished(_model: PublishedModel): Promise<void> {
    await callUnary(
      this.#repository.loadModel.bind(this.#repository),
      { name: this.#model },
      { timeoutMs: 30_000 },
    );
  }

  async close(): Promise<void> {
    this.#inference.close();
    this.#repository.close();
  }
}
