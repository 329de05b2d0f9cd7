import { InvalidArgumentError } from "@prescient/core";
import onnxProto from "onnx-proto";
import { type FeatureSpec, featureWidth } from "./features.js";
import { NextActionModel } from "./softmax-regression.js";

/**
 * The next-action model as ONNX (opset 13): `features` FP32 [batch, width]
 * → Gemm(W, b) → Softmax → `probabilities` FP32 [batch, classes]. The
 * feature spec (vocabulary and layout) rides in the model's metadata, so a
 * published file is self-describing: the analyzer can rebuild features for
 * any version it finds in the repository, and evaluate it against a candidate.
 */
const { onnx } = onnxProto;

export const nextActionTensors = { input: "features", output: "probabilities" } as const;
const specProperty = "prescient.next_action.spec";
const FLOAT = 1;

export function exportNextActionOnnx(model: NextActionModel, docString = ""): Uint8Array {
  const width = featureWidth(model.spec);
  const classes = model.classes;
  const tensorType = (dims: Array<number | string>) => ({
    tensorType: {
      elemType: FLOAT,
      shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
    },
  });
  const graph = onnx.GraphProto.create({
    name: "next_action",
    node: [
      onnx.NodeProto.create({
        name: "gemm",
        opType: "Gemm",
        input: [nextActionTensors.input, "W", "b"],
        output: ["logits"],
      }),
      onnx.NodeProto.create({
        name: "softmax",
        opType: "Softmax",
        input: ["logits"],
        output: [nextActionTensors.output],
        attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      }),
    ],
    input: [{ name: nextActionTensors.input, type: tensorType(["batch", width]) }],
    output: [{ name: nextActionTensors.output, type: tensorType(["batch", classes]) }],
    initializer: [
      { name: "W", dims: [width, classes], dataType: FLOAT, floatData: Array.from(model.weights) },
      { name: "b", dims: [classes], dataType: FLOAT, floatData: Array.from(model.bias) },
    ],
  });
  const proto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "prescient-analyzer",
    producerVersion: "1",
    docString,
    graph,
    metadataProps: [{ key: specProperty, value: JSON.stringify(model.spec) }],
  });
  return onnx.ModelProto.encode(proto).finish();
}

function floats(t: onnxProto.onnx.ITensorProto | undefined): Float32Array {
  if (t === undefined) return new Float32Array();
  if (t.floatData && t.floatData.length > 0) return Float32Array.from(t.floatData);
  const raw = t.rawData;
  if (raw && raw.length > 0)
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return new Float32Array();
}

/** Reads back a model this module exported; INVALID_ARGUMENT for any other file. */
export function importNextActionOnnx(bytes: Uint8Array): NextActionModel {
  let proto: onnxProto.onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new InvalidArgumentError(`not an ONNX model: ${(e as Error).message}`);
  }
  const specText = proto.metadataProps.find((p) => p.key === specProperty)?.value;
  if (!specText) throw new InvalidArgumentError("ONNX model carries no next-action feature spec");
  const spec = JSON.parse(specText) as FeatureSpec;
  const init = proto.graph?.initializer ?? [];
  try {
    return new NextActionModel(
      spec,
      floats(init.find((t) => t.name === "W")),
      floats(init.find((t) => t.name === "b")),
    );
  } catch (e) {
    throw new InvalidArgumentError(`next-action ONNX model is inconsistent: ${(e as Error).message}`);
  }
}
