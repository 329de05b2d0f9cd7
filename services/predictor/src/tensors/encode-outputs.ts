import type { inference } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";
import type { TensorSpec } from "../repository/model-version.js";
import { datatypes, type HostTensor } from "./datatypes.js";

/**
 * Which outputs a request wants and in which form, and their encoding.
 *
 * Form: raw_output_contents when the request sent raw_input_contents,
 * typed contents otherwise; the request parameter `binary_data_output`
 * (bool, after Triton's) overrides either way. One response never mixes the
 * two forms, because raw entries pair with outputs by position.
 */
export interface OutputPlan {
  /** Indexes into the model's outputs, in the order to answer. */
  indexes: number[];
  raw: boolean;
}

export function planOutputs(
  request: inference.ModelInferRequest,
  outputs: TensorSpec[],
  model: string,
): OutputPlan {
  const indexes =
    request.outputs.length === 0
      ? outputs.map((_, i) => i)
      : request.outputs.map((o) => {
          const i = outputs.findIndex((spec) => spec.name === o.name);
          if (i < 0)
            throw new InvalidArgumentError(
              `unknown output ${JSON.stringify(o.name.slice(0, 100))}; model ${model} has ${outputs.map((s) => s.name).join(", ")}`,
            );
          return i;
        });
  if (new Set(indexes).size !== indexes.length)
    throw new InvalidArgumentError("an output is requested twice");
  const asked = request.parameters.binary_data_output;
  if (asked !== undefined && asked.boolParam === undefined)
    throw new InvalidArgumentError("parameter binary_data_output must be a bool_param");
  // FP16 has no typed contents field, so a response holding one is raw.
  const needsRaw = indexes.some((i) => !("field" in datatypes[outputs[i]!.datatype]));
  const raw = asked?.boolParam ?? (request.rawInputContents.length > 0 || needsRaw);
  if (!raw && needsRaw) throw new InvalidArgumentError("FP16 outputs travel only as raw_output_contents");
  return { indexes, raw };
}

export function encodeOutputs(
  tensors: HostTensor[],
  specs: TensorSpec[],
  plan: OutputPlan,
): Pick<inference.ModelInferResponse, "outputs" | "rawOutputContents"> {
  const outputs: inference.ModelInferResponse_InferOutputTensor[] = [];
  const rawOutputContents: Buffer[] = [];
  for (const i of plan.indexes) {
    const t = tensors[i]!;
    const out: inference.ModelInferResponse_InferOutputTensor = {
      name: specs[i]!.name,
      datatype: t.datatype,
      shape: t.shape.map(BigInt),
      parameters: {},
    };
    if (plan.raw) rawOutputContents.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    else out.contents = typedContents(t);
    outputs.push(out);
  }
  return { outputs, rawOutputContents };
}

function typedContents(t: HostTensor): inference.InferTensorContents {
  const c: inference.InferTensorContents = {
    boolContents: [],
    intContents: [],
    int64Contents: [],
    uintContents: [],
    uint64Contents: [],
    fp32Contents: [],
    fp64Contents: [],
    bytesContents: [],
  };
  const info = datatypes[t.datatype];
  if (!("field" in info)) return c;
  if (info.field === "boolContents") c.boolContents = Array.from(t.data as Uint8Array, (v) => v !== 0);
  else if (info.field === "int64Contents" || info.field === "uint64Contents")
    c[info.field] = Array.from(t.data as BigInt64Array);
  else c[info.field] = Array.from(t.data as Float32Array);
  return c;
}
