import {
  importNextActionOnnx,
  type ModelPublisher,
  type NextActionModel,
  type NextActionScorer,
  type PublishedModel,
  type ScoreRequest,
} from "@prescient/analyzer";
import { NotFoundError } from "@prescient/core";

/**
 * The analyzer's model ports for a replay: versions are kept in memory, and
 * scored by the same weights the ONNX file holds (imported back from its
 * bytes), without an ONNX Runtime session per replay.
 */
export class MemoryModelPublisher implements ModelPublisher {
  #latest: PublishedModel | undefined;

  async publish(bytes: Uint8Array): Promise<number> {
    const version = (this.#latest?.version ?? 0) + 1;
    this.#latest = { version, bytes };
    return version;
  }

  async latest(): Promise<PublishedModel | undefined> {
    return this.#latest;
  }
}

export class SparseScorer implements NextActionScorer {
  readonly description = "in-process (evaluator)";
  #loaded: { version: number; model: NextActionModel } | undefined;

  async modelPublished(model: PublishedModel): Promise<void> {
    this.#loaded = { version: model.version, model: importNextActionOnnx(model.bytes) };
  }

  async score(r: ScoreRequest): Promise<Float32Array> {
    const loaded = this.#loaded;
    if (loaded === undefined || loaded.version !== r.version)
      throw new NotFoundError(`next-action model version ${r.version} is not loaded`);
    const out = new Float32Array(r.rows * r.classes);
    for (let row = 0; row < r.rows; row++) {
      const active: number[] = [];
      for (let i = 0; i < r.width; i++) if (r.features[row * r.width + i] !== 0) active.push(i);
      out.set(loaded.model.probabilities(active), row * r.classes);
    }
    return out;
  }

  async close(): Promise<void> {
    this.#loaded = undefined;
  }
}
