import { inference } from "@prescient/contracts";
import { callUnary, clientChannelOptions, peerCredentials } from "@prescient/kit";
import type { BatchTensor } from "../inputs/build-inputs.js";
import { decodeOutput, encodeRaw } from "./oip-tensors.js";

/** Rows of one output tensor, split back per input row. */
export interface OutputRows {
  name: string;
  datatype: string;
  /** Shape of one row's slice (the batch dimension set to 1). */
  rowShape: number[];
  /** rows[i] holds the values of input row i. */
  rows: number[][];
}

/** Deadline of a ModelInfer when the caller gives none. */
export const defaultInferTimeoutMs = 30_000;

export interface InferSettings {
  /** Absolute deadline, ms since the epoch. */
  deadlineMs?: number;
}

/** What the worker needs of a predictor: one batched inference. Implemented over OIP gRPC. */
export interface Predictor {
  infer(
    model: string,
    version: string,
    inputs: readonly BatchTensor[],
    outputs: readonly string[],
    settings?: InferSettings,
  ): Promise<{ modelVersion: string; outputs: OutputRows[] }>;
  close(): void;
}

/**
 * An OIP v2 client: inputs travel as raw little-endian bytes (the compact
 * form), outputs come back raw and are split along the batch dimension.
 */
export class OipPredictor implements Predictor {
  readonly #address: string | (() => string);
  #client: inference.GRPCInferenceServiceClient | undefined;

  /** `address` may be a function, for a mesh whose own port is known only once it listens. */
  constructor(address: string | (() => string)) {
    this.#address = address;
  }

  #connect(): inference.GRPCInferenceServiceClient {
    if (this.#client === undefined) {
      const address = typeof this.#address === "string" ? this.#address : this.#address();
      this.#client = new inference.GRPCInferenceServiceClient(
        address,
        peerCredentials(),
        clientChannelOptions(),
      );
    }
    return this.#client;
  }

  async infer(
    model: string,
    version: string,
    inputs: readonly BatchTensor[],
    outputs: readonly string[],
    settings: InferSettings = {},
  ): Promise<{ modelVersion: string; outputs: OutputRows[] }> {
    const rows = inputs[0]?.shape[0] ?? 0;
    const request: inference.ModelInferRequest = {
      modelName: model,
      modelVersion: version,
      id: "",
      // Queue order already reflects task priority, and models differ in their
      // priority_levels, so no per-request priority is sent.
      parameters: { binary_data_output: { boolParam: true } },
      inputs: inputs.map((t) => ({
        name: t.name,
        datatype: t.datatype,
        shape: t.shape.map(BigInt),
        parameters: {},
      })),
      outputs: outputs.map((name) => ({ name, parameters: {} })),
      rawInputContents: inputs.map((t) => encodeRaw(t.datatype, t.values)),
    };
    const client = this.#connect();
    const infer = client.modelInfer.bind(client);
    const response = await callUnary(
      infer,
      request,
      // A hung predictor must not hold a batch (whose leases keep being extended) forever.
      settings.deadlineMs !== undefined
        ? { deadlineMs: settings.deadlineMs }
        : { timeoutMs: defaultInferTimeoutMs },
    );
    return {
      modelVersion: response.modelVersion,
      outputs: response.outputs.map((tensor, i) => {
        const values = decodeOutput(tensor, response.rawOutputContents[i]);
        const shape = tensor.shape.map(Number);
        const perRow = rows > 0 ? values.length / rows : 0;
        return {
          name: tensor.name,
          datatype: tensor.datatype,
          rowShape: [1, ...shape.slice(1)],
          rows: Array.from({ length: rows }, (_, r) => values.slice(r * perRow, (r + 1) * perRow)),
        };
      }),
    };
  }

  close(): void {
    this.#client?.close();
  }
}
