import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { callUnary, checkHealth, livenessServiceName, maxErrorDetailsChars } from "@prescient/kit";
import { afterEach, describe, expect, it } from "vitest";
import { buildModel } from "./models/onnx-graph.js";
import { startTestPredictor, type TestPredictor, tempRepository, writeModel } from "./predictor.test-util.js";
import { inferenceServiceName } from "./service/inference-service.js";

const adder = buildModel({
  name: "add",
  nodes: [{ op: "Add", inputs: ["x", "k"], outputs: ["y"] }],
  inputs: [{ name: "x", datatype: "FP32", shape: ["batch", 1] }],
  outputs: [{ name: "y", datatype: "FP32", shape: ["batch", 1] }],
  initializers: [{ name: "k", dims: [1], values: [1] }],
});

const failure = (p: Promise<unknown>): Promise<{ code: number; details: string }> =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: { code: number; details: string }) => e,
  );

describe("predictor health and error details", () => {
  let p: TestPredictor | undefined;
  let repo: ReturnType<typeof tempRepository> | undefined;
  afterEach(async () => {
    await p?.close();
    repo?.remove();
  });

  const repoCall = <Q, R>(method: "loadModel" | "unloadModel", request: Q): Promise<R> =>
    callUnary(p!.repoClient[method].bind(p!.repoClient) as never, request);

  it("turns NOT_SERVING when a configured model is unloaded, and SERVING when it is loaded again", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder);
    p = await startTestPredictor({ repositoryPath: repo.root, models: ["adder"] });
    await p.runtime.ready;
    expect(await checkHealth(p.address, inferenceServiceName)).toBe("SERVING");

    await repoCall("unloadModel", { name: "adder" });
    expect(await checkHealth(p.address, inferenceServiceName)).toBe("NOT_SERVING");
    expect(await checkHealth(p.address, "")).toBe("NOT_SERVING");
    expect(await checkHealth(p.address, livenessServiceName)).toBe("SERVING");
    expect(p.runtime.isReady()).toBe(false);

    await repoCall("loadModel", { name: "adder" });
    expect(await checkHealth(p.address, inferenceServiceName)).toBe("SERVING");
    expect(await checkHealth(p.address, "")).toBe("SERVING");
  });

  it("turns NOT_SERVING when a reload leaves a configured model without a ready version", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder);
    p = await startTestPredictor({ repositoryPath: repo.root, models: ["adder"] });
    await p.runtime.ready;
    await repoCall("unloadModel", { name: "adder" });
    writeFileSync(join(repo.root, "adder", "1", "model.onnx"), "not an onnx model");
    const e = await failure(repoCall("loadModel", { name: "adder" }));
    expect(e.code).toBe(status.FAILED_PRECONDITION);
    // The message names the problem but not where the repository lives.
    expect(e.details).not.toContain(repo.root);
    expect(await checkHealth(p.address, inferenceServiceName)).toBe("NOT_SERVING");
  });

  it("names no repository path for a model that is not there", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder);
    p = await startTestPredictor({ repositoryPath: repo.root, models: ["adder"] });
    await p.runtime.ready;
    const e = await failure(repoCall("loadModel", { name: "nope" }));
    expect(e.code).toBe(status.NOT_FOUND);
    expect(e.details).toMatch(/nope/);
    expect(e.details).not.toContain(repo.root);
  });

  it("answers a huge bad input with short details and the real code", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder);
    p = await startTestPredictor({ repositoryPath: repo.root, models: ["adder"] });
    await p.runtime.ready;
    const shape = Array.from({ length: 500_000 }, () => 1n);
    const e = await failure(
      p.infer({
        modelName: "adder",
        inputs: [{ name: "x", datatype: "FP32", shape, contents: { fp32Contents: [1] } as never }],
      }),
    );
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details.length).toBeLessThanOrEqual(maxErrorDetailsChars);
    expect(e.details).toMatch(/rank 500000/);
  });
});
