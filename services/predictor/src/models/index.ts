// Model building for tools and benchmarks. Kept off the package's main entry so
// that serving never loads onnx-proto (a development dependency).

export { heavyMlp } from "./heavy-mlp.js";
export { buildIdentityModel, buildMlpModel, buildModel, type Dim, type OnnxDatatype } from "./onnx-graph.js";
export { Rng } from "./rng.js";
