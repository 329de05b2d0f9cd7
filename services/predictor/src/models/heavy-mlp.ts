import { buildModel } from "./onnx-graph.js";
import { Rng } from "./rng.js";

/**
 * A compute-bound model, for the predictor bench's batching and overhead cases
 * and the tests of sessions on worker threads: 8 inputs, two hidden layers of
 * 1024, one output (about 1M multiply-adds a row). The shipped ctr model runs
 * 256 rows in about 15 µs, so with it the per-call gRPC cost hides what
 * batching saves; here, as with real models, one row at a time is a
 * memory-bound matrix-vector product, and a batch turns it into a
 * matrix-matrix product that reuses every weight it loads.
 */
export function heavyMlp(hidden = 1024, seed = 7): Uint8Array {
  const rng = new Rng(seed);
  const weights = (n: number, scale: number) => Array.from({ length: n }, () => rng.uniform(-scale, scale));
  return buildModel({
    name: "heavy_mlp",
    docString: "benchmarks and tests only: random weights",
    nodes: [
      { op: "Gemm", inputs: ["features", "w1", "b1"], outputs: ["h1"] },
      { op: "Relu", inputs: ["h1"], outputs: ["a1"] },
      { op: "Gemm", inputs: ["a1", "w2", "b2"], outputs: ["h2"] },
      { op: "Relu", inputs: ["h2"], outputs: ["a2"] },
      { op: "Gemm", inputs: ["a2", "w3", "b3"], outputs: ["logit"] },
      { op: "Sigmoid", inputs: ["logit"], outputs: ["probability"] },
    ],
    inputs: [{ name: "features", datatype: "FP32", shape: ["batch", 8] }],
    outputs: [{ name: "probability", datatype: "FP32", shape: ["batch", 1] }],
    initializers: [
      { name: "w1", dims: [8, hidden], values: weights(8 * hidden, 0.3) },
      { name: "b1", dims: [hidden], values: weights(hidden, 0.1) },
      { name: "w2", dims: [hidden, hidden], values: weights(hidden * hidden, 0.05) },
      { name: "b2", dims: [hidden], values: weights(hidden, 0.1) },
      { name: "w3", dims: [hidden, 1], values: weights(hidden, 0.05) },
      { name: "b3", dims: [1], values: [0] },
    ],
  });
}
