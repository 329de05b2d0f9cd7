import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { systemTool } from "@prescient/kit/testing";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shippedModelsPath } from "../predictor.js";
import { startTestPredictor, type TestPredictor } from "../predictor.test-util.js";

/**
 * An OIP client written by someone else: Python stubs generated from
 * proto/inference/grpc_service.proto with Debian's python3-grpcio and
 * grpc_tools, calling ModelMetadata and ModelInfer (raw and typed).
 */
const python = "/usr/bin/python3";
const pythonGrpc = systemTool(
  python,
  "apt-get install python3-grpcio python3-grpc-tools",
  ["-c", "import grpc, grpc_tools.protoc"],
  "Debian's Python gRPC",
);
const protoDir = fileURLToPath(new URL("../../../../proto", import.meta.url));

const client = `
import json, struct, sys
import grpc
import grpc_service_pb2 as pb, grpc_service_pb2_grpc as rpc

rows = json.loads(sys.argv[2])
channel = grpc.insecure_channel(sys.argv[1])
stub = rpc.GRPCInferenceServiceStub(channel)
meta = stub.ModelMetadata(pb.ModelMetadataRequest(name="ctr_prediction"))
flat = [v for row in rows for v in row]
req = pb.ModelInferRequest(model_name="ctr_prediction", id="py-1")
t = req.inputs.add(name="features", datatype="FP32", shape=[len(rows), len(rows[0])])
req.raw_input_contents.append(struct.pack("<%df" % len(flat), *flat))
raw = stub.ModelInfer(req)
req2 = pb.ModelInferRequest(model_name="ctr_prediction", model_version="1")
t2 = req2.inputs.add(name="features", datatype="FP32", shape=[len(rows), len(rows[0])])
t2.contents.fp32_contents.extend(flat)
typed = stub.ModelInfer(req2)
out = raw.outputs[0]
print(json.dumps({
  "meta": {"name": meta.name, "versions": list(meta.versions), "platform": meta.platform,
           "inputs": [[i.name, i.datatype, list(i.shape)] for i in meta.inputs],
           "outputs": [[o.name, o.datatype, list(o.shape)] for o in meta.outputs]},
  "id": raw.id, "name": out.name, "shape": list(out.shape),
  "raw": list(struct.unpack("<%df" % (len(raw.raw_output_contents[0]) // 4), raw.raw_output_contents[0])),
  "typed": list(typed.outputs[0].contents.fp32_contents),
}))
`;

describe.runIf(pythonGrpc.runTests)("Python OIP client (generated from grpc_service.proto)", () => {
  let p: TestPredictor;
  let dir: string;
  beforeAll(async () => {
    p = await startTestPredictor();
    await p.runtime.ready;
    // Never a folder named grpc/: it would shadow the grpc package.
    dir = mkdtempSync(join(tmpdir(), "oip-python-"));
    execFileSync(python, [
      "-m",
      "grpc_tools.protoc",
      `-I${join(protoDir, "inference")}`,
      `--python_out=${dir}`,
      `--grpc_python_out=${dir}`,
      "grpc_service.proto",
    ]);
    writeFileSync(join(dir, "client.py"), client);
  });
  afterAll(async () => {
    await p?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads metadata and gets the model's numbers, raw and typed", async () => {
    const rows = [
      [1.2, 7, 1, 20, 5, 0.06, 0.9, 1],
      [0.3, 2, 8, 3, 80, 0.01, 0.1, 0],
      [2.5, 5, 3, 12, 30, 0.03, 0.5, 1],
    ];
    // Asynchronously: the server answering it runs in this process.
    const { stdout: out } = await promisify(execFile)(
      python,
      [join(dir, "client.py"), p.address, JSON.stringify(rows)],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    const got = JSON.parse(out) as {
      meta: unknown;
      id: string;
      name: string;
      shape: number[];
      raw: number[];
      typed: number[];
    };
    expect(got.meta).toEqual({
      name: "ctr_prediction",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [["features", "FP32", [-1, 8]]],
      outputs: [["probability", "FP32", [-1, 1]]],
    });
    expect([got.id, got.name, got.shape]).toEqual(["py-1", "probability", [3, 1]]);

    const session = await InferenceSession.create(
      readFileSync(join(shippedModelsPath, "ctr_prediction", "1", "model.onnx")),
    );
    const expected = await session.run({
      features: new Tensor("float32", Float32Array.from(rows.flat()), [3, 8]),
    });
    const want = Array.from(expected.probability!.data as Float32Array);
    await session.release();
    expect(got.raw).toEqual(want);
    expect(got.typed.map((v) => Math.fround(v))).toEqual(want);
    // The better ad (row 0) is likelier to be clicked than the stale, irrelevant one (row 1).
    expect(want[0]!).toBeGreaterThan(want[1]!);
  });
});
