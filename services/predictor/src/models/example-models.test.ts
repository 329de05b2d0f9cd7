import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { shippedModelsPath } from "../predictor.js";
import { buildExample } from "./build-examples.js";
import { auc, r2, rmse } from "./evaluation.js";
import { exampleSpecs, sampleDataset } from "./example-specs.js";
import { Rng } from "./rng.js";

/** The shipped models must have learned their generating functions, judged on fresh rows from a new seed. */
async function predictShipped(model: string, x: Float64Array, d: number): Promise<Float32Array> {
  const session = await InferenceSession.create(
    readFileSync(join(shippedModelsPath, model, "1", "model.onnx")),
    {
      intraOpNumThreads: 1,
    },
  );
  const rows = x.length / d;
  const out = await session.run({ features: new Tensor("float32", Float32Array.from(x), [rows, d]) });
  await session.release();
  return out[session.outputNames[0]!]!.data as Float32Array;
}

describe("example models", () => {
  const tasks = loadTaskTypes(defaultTaskTypesPath);

  for (const spec of exampleSpecs) {
    it(`${spec.model} matches its task type and learned its generating function`, async () => {
      const task = tasks.get(spec.model);
      expect(task.inputs).toEqual([{ tensor: "features", datatype: "FP32", features: spec.features }]);
      expect(task.outputs).toEqual([spec.output]);

      const test = sampleDataset(spec, 20_000, new Rng(424_242));
      const predicted = await predictShipped(spec.model, test.x, spec.features.length);
      if (spec.kind === "probability") {
        // Ranking clicks nearly as well as the true probability does, and calibrated to within a few points.
        const best = auc(test.truth, test.label);
        expect(auc(predicted, test.label)).toBeGreaterThan(best - 0.01);
        expect(rmse(predicted, test.truth)).toBeLessThan(0.04);
      } else {
        expect(r2(predicted, test.truth)).toBeGreaterThan(0.97);
      }
    });
  }

  it("rebuilds byte for byte from the fixed seed", () => {
    const spec = exampleSpecs[2]!;
    const a = buildExample({ ...spec, train: { ...spec.train, rows: 2000, epochs: 2 } }, 7, () => {});
    const b = buildExample({ ...spec, train: { ...spec.train, rows: 2000, epochs: 2 } }, 7, () => {});
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});
