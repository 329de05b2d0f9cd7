import onnxProto from "onnx-proto";
import type { MlpWeights } from "./mlp.js";

/**
 * Builds ONNX model bytes in TypeScript with onnx-proto (ONNX 1.10 schema,
 * opset 13): the example MLPs and, for tests, tiny identity graphs of any type.
 */
const { onnx } = onnxProto;

/** ONNX TensorProto.DataType codes of the OIP datatypes the predictor serves. */
export const onnxElemType = {
  FP32: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FP16: 10,
  FP64: 11,
  UINT32: 12,
  UINT64: 13,
} as const;
export type OnnxDatatype = keyof typeof onnxElemType;

/** A dimension: a fixed size, or a symbolic name such as "batch". */
export type Dim = number | string;

interface GraphParts {
  name: string;
  nodes: Array<{ op: string; inputs: string[]; outputs: string[] }>;
  inputs: Array<{ name: string; datatype: OnnxDatatype; shape: Dim[] }>;
  outputs: Array<{ name: string; datatype: OnnxDatatype; shape: Dim[] }>;
  initializers?: Array<{ name: string; dims: number[]; values: ArrayLike<number> }>;
  docString?: string;
}

const valueInfo = (v: { name: string; datatype: OnnxDatatype; shape: Dim[] }) =>
  onnx.ValueInfoProto.create({
    name: v.name,
    type: {
      tensorType: {
        elemType: onnxElemType[v.datatype],
        shape: { dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });

/** Serialises a graph of standard-domain ops into model bytes. */
export function buildModel(parts: GraphParts): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: parts.name,
    node: parts.nodes.map((n, i) =>
      onnx.NodeProto.create({
        name: `${n.op.toLowerCase()}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
      }),
    ),
    input: parts.inputs.map(valueInfo),
    output: parts.outputs.map(valueInfo),
    initializer: (parts.initializers ?? []).map((t) =>
      onnx.TensorProto.create({
        name: t.name,
        dims: t.dims,
        dataType: onnxElemType.FP32,
        floatData: Array.from(t.values),
      }),
    ),
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "prescient",
    producerVersion: "1",
    docString: parts.docString ?? "",
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Gemm-Relu-Gemm(-Sigmoid): input `features` [batch, n] to one output column [batch, 1]. */
export function buildMlpModel(
  weights: MlpWeights,
  names: { model: string; input: string; output: string; docString: string },
): Uint8Array {
  const last = weights.activation === "sigmoid" ? "logit" : names.output;
  const nodes = [
    { op: "Gemm", inputs: [names.input, "w1", "b1"], outputs: ["h1"] },
    { op: "Relu", inputs: ["h1"], outputs: ["a1"] },
    { op: "Gemm", inputs: ["a1", "w2", "b2"], outputs: [last] },
  ];
  if (weights.activation === "sigmoid")
    nodes.push({ op: "Sigmoid", inputs: ["logit"], outputs: [names.output] });
  return buildModel({
    name: names.model,
    docString: names.docString,
    nodes,
    inputs: [{ name: names.input, datatype: "FP32", shape: ["batch", weights.inputs] }],
    outputs: [{ name: names.output, datatype: "FP32", shape: ["batch", 1] }],
    initializers: [
      { name: "w1", dims: [weights.inputs, weights.hidden], values: weights.w1 },
      { name: "b1", dims: [weights.hidden], values: weights.b1 },
      { name: "w2", dims: [weights.hidden, 1], values: weights.w2 },
      { name: "b2", dims: [1], values: [weights.b2] },
    ],
  });
}

/** Identity from `input` to `output` of one datatype and shape, e.g. for protocol tests. */
export function buildIdentityModel(datatype: OnnxDatatype, shape: Dim[], input = "input", output = "output") {
  return buildModel({
    name: `identity_${datatype.toLowerCase()}`,
    nodes: [{ op: "Identity", inputs: [input], outputs: [output] }],
    inputs: [{ name: input, datatype, shape }],
    outputs: [{ name: output, datatype, shape }],
  });
}
