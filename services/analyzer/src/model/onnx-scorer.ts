import { NotFoundError, UnavailableError } from "@prescient/core";
import { disableOrtTelemetry } from "@prescient/kit";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { nextActionTensors } from "../next-action/onnx-export.js";
import type { NextActionScorer, PublishedModel, ScoreRequest } from "./ports.js";

/**
 * Scores with onnxruntime-node in this process: used when no predictor is
 * configured (the embedded default) and in tests. It keeps the newest
 * published version's session, one thread, as the model is tiny.
 */
export class InProcessScorer implements NextActionScorer {
  readonly description = "in-process onnxruntime";
  #loaded: { version: number; session: InferenceSession } | undefined;

  async modelPublished(model: PublishedModel): Promise<void> {
    disableOrtTelemetry();
    const session = await InferenceSession.create(model.bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    const previous = this.#loaded;
    this.#loaded = { version: model.version, session };
    await previous?.session.release();
  }

  async score(r: ScoreRequest): Promise<Float32Array> {
    const loaded = this.#loaded;
    if (loaded === undefined || loaded.version !== r.version)
      throw new NotFoundError(`next-action model version ${r.version} is not loaded`);
    try {
      const out = await loaded.session.run({
        [nextActionTensors.input]: new Tensor("float32", r.features, [r.rows, r.width]),
      });
      const data = out[nextActionTensors.output]?.data;
      if (!(data instanceof Float32Array)) throw new Error("the model returned no FP32 probabilities");
      return data;
    } catch (e) {
      throw new UnavailableError(`in-process scoring failed: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.#loaded?.session.release();
    this.#loaded = undefined;
  }
}
