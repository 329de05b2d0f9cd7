import type { inference } from "@prescient/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIdentityModel, type OnnxDatatype } from "../models/onnx-graph.js";
import {
  startTestPredictor,
  type TestPredictor,
  tempRepository,
  writeModel,
} from "../predictor.test-util.js";
import { datatypes } from "../tensors/datatypes.js";

/** An OIP round trip over real gRPC on loopback for every datatype, typed and raw, through identity models. */
const values: Record<OnnxDatatype, Array<number | bigint | boolean>> = {
  BOOL: [true, false, true, true, false, false],
  INT8: [-128, -1, 0, 1, 2, 127],
  INT16: [-32768, -2, 0, 3, 4, 32767],
  INT32: [-2147483648, -5, 0, 6, 7, 2147483647],
  INT64: [-(2n ** 63n), -8n, 0n, 9n, 10n, 2n ** 63n - 1n],
  UINT8: [0, 1, 2, 3, 254, 255],
  UINT16: [0, 1, 2, 3, 4, 65535],
  UINT32: [0, 1, 2, 3, 4, 4294967295],
  UINT64: [0n, 1n, 2n, 3n, 4n, 2n ** 64n - 1n],
  FP16: [0x3c00, 0x4000, 0x4200, 0x0000, 0xbc00, 0x7bff],
  FP32: [1.5, -2.25, 0, 3.125, 1e-7, -1e30],
  FP64: [Math.PI, -Math.E, 0, 1e-300, 1e300, -0.5],
};

const typed = Object.keys(values).filter((d) => d !== "FP16") as OnnxDatatype[];
const modelOf = (dt: string) => `identity_${dt.toLowerCase()}`;

function rawOf(dt: OnnxDatatype): Buffer {
  const info = datatypes[dt];
  const arr = info.alloc(6);
  for (const [i, v] of values[dt].entries())
    (arr as unknown as Array<number | bigint>)[i] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  return Buffer.from(arr.buffer);
}

function contentsOf(dt: OnnxDatatype): Partial<inference.InferTensorContents> {
  const info = datatypes[dt];
  return "field" in info ? { [info.field]: values[dt] } : {};
}

// On the event loop's thread, and with each session on a worker (every datatype crosses threads and back).
for (const inWorker of [false, true])
  describe(`OIP round trip for every datatype${inWorker ? ", sessions in workers" : ""}`, () => {
    let p: TestPredictor;
    let repo: ReturnType<typeof tempRepository>;

    beforeAll(async () => {
      repo = tempRepository();
      for (const dt of Object.keys(values) as OnnxDatatype[])
        writeModel(
          repo.root,
          modelOf(dt),
          1,
          buildIdentityModel(dt, ["batch", 3]),
          `max_batch_size: 8\nmax_queue_delay_ms: 0\nrun_in_worker: ${inWorker}\n`,
        );
      p = await startTestPredictor({ repositoryPath: repo.root });
      await p.runtime.ready;
    });
    afterAll(async () => {
      await p.close();
      repo.remove();
    });

    for (const dt of typed) {
      it(`${dt} in typed contents comes back in typed contents`, async () => {
        const res = await p.infer({
          modelName: modelOf(dt),
          id: `req-${dt}`,
          inputs: [
            {
              name: "input",
              datatype: dt,
              shape: [2n, 3n],
              contents: contentsOf(dt) as inference.InferTensorContents,
            },
          ],
        });
        expect(res.id).toBe(`req-${dt}`);
        expect(res.modelVersion).toBe("1");
        expect(res.rawOutputContents).toEqual([]);
        const out = res.outputs[0]!;
        expect([out.name, out.datatype, out.shape]).toEqual(["output", dt, [2n, 3n]]);
        const field = (datatypes[dt] as { field: keyof inference.InferTensorContents }).field;
        const got = out.contents![field] as unknown[];
        if (dt === "FP32") expect(got).toEqual(values.FP32.map((v) => Math.fround(v as number)));
        else expect(got).toEqual(values[dt]);
      });
    }

    for (const dt of Object.keys(values) as OnnxDatatype[]) {
      it(`${dt} in raw_input_contents comes back little-endian in raw_output_contents`, async () => {
        const res = await p.infer({
          modelName: modelOf(dt),
          inputs: [{ name: "input", datatype: dt, shape: [2n, 3n] }],
          rawInputContents: [rawOf(dt)],
        });
        expect(res.outputs[0]!.contents).toBeUndefined();
        expect(res.rawOutputContents).toHaveLength(1);
        expect(Buffer.compare(res.rawOutputContents[0]!, rawOf(dt))).toBe(0);
      });
    }

    it("answers in the form binary_data_output asks, either way", async () => {
      const typedAnswer = await p.infer({
        modelName: modelOf("INT32"),
        parameters: { binary_data_output: { boolParam: false } },
        inputs: [{ name: "input", datatype: "INT32", shape: [2n, 3n] }],
        rawInputContents: [rawOf("INT32")],
      });
      expect(typedAnswer.outputs[0]!.contents!.intContents).toEqual(values.INT32);
      const rawAnswer = await p.infer({
        modelName: modelOf("FP64"),
        parameters: { binary_data_output: { boolParam: true } },
        inputs: [
          {
            name: "input",
            datatype: "FP64",
            shape: [2n, 3n],
            contents: contentsOf("FP64") as inference.InferTensorContents,
          },
        ],
      });
      expect(Buffer.compare(rawAnswer.rawOutputContents[0]!, rawOf("FP64"))).toBe(0);
    });
  });
