import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { predictorV1 } from "@prescient/contracts";
import { callUnary } from "@prescient/kit";
import { afterEach, describe, expect, it } from "vitest";
import { buildModel } from "../models/onnx-graph.js";
import {
  startTestPredictor,
  type TestPredictor,
  tempRepository,
  writeModel,
} from "../predictor.test-util.js";

/** A model that adds a constant: each version adds its own number, so answers show which version ran. */
const adder = (k: number) =>
  buildModel({
    name: `add_${k}`,
    nodes: [{ op: "Add", inputs: ["x", "k"], outputs: ["y"] }],
    inputs: [{ name: "x", datatype: "FP32", shape: ["batch", 1] }],
    outputs: [{ name: "y", datatype: "FP32", shape: ["batch", 1] }],
    initializers: [{ name: "k", dims: [1], values: [k] }],
  });

const until = async (check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("model repository", () => {
  let p: TestPredictor | undefined;
  let repo: ReturnType<typeof tempRepository> | undefined;
  afterEach(async () => {
    await p?.close();
    repo?.remove();
  });

  const ask = (version = "") =>
    p!
      .infer({
        modelName: "adder",
        modelVersion: version,
        inputs: [{ name: "x", datatype: "FP32", shape: [1n, 1n], contents: { fp32Contents: [1] } as never }],
      })
      .then((r) => [r.modelVersion, r.outputs[0]!.contents!.fp32Contents[0]]);
  const repoCall = <Q, R>(method: "listModels" | "loadModel" | "unloadModel", request: Q): Promise<R> =>
    callUnary(p!.repoClient[method].bind(p!.repoClient) as never, request);

  it("picks up a new version without a restart and retires the old one by the latest-N policy", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder(1), "version_policy: { latest: 1 }\nmax_queue_delay_ms: 0\n");
    p = await startTestPredictor({ repositoryPath: repo.root, pollIntervalMs: 50 });
    await p.runtime.ready;
    expect(await ask()).toEqual(["1", 2]);

    writeModel(repo.root, "adder", 2, adder(2));
    await until(async () => (await ask())[0] === "2");
    expect(await ask()).toEqual(["2", 3]);
    await until(() => !p!.runtime.repository.isReady("adder", "1"));
    const list = await repoCall<predictorV1.ListModelsRequest, predictorV1.ListModelsResponse>("listModels", {
      readyOnly: false,
    });
    expect(list.models.map((m) => [m.version, m.state])).toEqual([
      ["2", predictorV1.ModelState.MODEL_STATE_READY],
      ["1", predictorV1.ModelState.MODEL_STATE_AVAILABLE],
    ]);
  });

  it("serves a specific list of versions side by side, and reloads on a config change", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder(1));
    writeModel(repo.root, "adder", 2, adder(2));
    writeModel(repo.root, "adder", 3, adder(3), "version_policy: { specific: [1, 3] }\n");
    p = await startTestPredictor({ repositoryPath: repo.root, pollIntervalMs: 50 });
    await p.runtime.ready;
    expect(await ask("1")).toEqual(["1", 2]);
    expect(await ask("3")).toEqual(["3", 4]);
    expect(await ask()).toEqual(["3", 4]);
    await expect(ask("2")).rejects.toMatchObject({ code: status.NOT_FOUND });

    writeFileSync(join(repo.root, "adder", "config.yaml"), "version_policy: { all: true }\n");
    await until(() => p!.runtime.repository.isReady("adder", "2"));
    expect(await ask("2")).toEqual(["2", 3]);
  });

  it("unloads and loads on request, letting queued requests finish", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder(1), "max_queue_delay_ms: 50\n");
    p = await startTestPredictor({ repositoryPath: repo.root });
    await p.runtime.ready;
    const inFlight = ask();
    await new Promise((r) => setTimeout(r, 10));
    const unloaded = await repoCall<predictorV1.UnloadModelRequest, predictorV1.UnloadModelResponse>(
      "unloadModel",
      { name: "adder" },
    );
    expect(unloaded.versions).toEqual([]);
    expect(await inFlight).toEqual(["1", 2]);
    await expect(ask()).rejects.toMatchObject({ code: status.NOT_FOUND });

    const loaded = await repoCall<predictorV1.LoadModelRequest, predictorV1.LoadModelResponse>("loadModel", {
      name: "adder",
    });
    expect(loaded.versions.map((v) => [v.version, v.state, v.executionProvider])).toEqual([
      ["1", predictorV1.ModelState.MODEL_STATE_READY, "cpu"],
    ]);
    expect(await ask()).toEqual(["1", 2]);
    await expect(repoCall("loadModel", { name: "ghost" })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it("keeps state for real models only: unknown names leave no trace, long names are refused", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder(1));
    mkdirSync(join(repo.root, "empty", "1"), { recursive: true }); // a version directory without model.onnx
    p = await startTestPredictor({ repositoryPath: repo.root });
    await p.runtime.ready;
    expect(p.runtime.repository.size).toBe(1);

    for (let i = 0; i < 150; i++) {
      const name = `ghost-${i}-${"x".repeat(200)}`;
      await expect(repoCall("loadModel", { name })).rejects.toMatchObject({ code: status.NOT_FOUND });
      await expect(repoCall("unloadModel", { name })).rejects.toMatchObject({ code: status.NOT_FOUND });
    }
    const huge = "g".repeat(1 << 20);
    const refused = await repoCall("loadModel", { name: huge }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((refused as { details: string }).details.length).toBeLessThan(200);
    await expect(repoCall("unloadModel", { name: huge })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    await expect(repoCall("loadModel", { name: "empty" })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(repoCall("unloadModel", { name: "empty" })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });

    expect(p.runtime.repository.size).toBe(1);
    const list = await repoCall<predictorV1.ListModelsRequest, predictorV1.ListModelsResponse>("listModels", {
      readyOnly: false,
    });
    expect(list.models.map((m) => [m.name, m.version])).toEqual([["adder", "1"]]);
  });

  it("forgets a model removed from disk and picks it up again when it comes back", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder(1));
    p = await startTestPredictor({ repositoryPath: repo.root, pollIntervalMs: 50 });
    await p.runtime.ready;
    await repoCall("unloadModel", { name: "adder" });
    rmSync(join(repo.root, "adder"), { recursive: true });
    await until(() => p!.runtime.repository.size === 0);
    writeModel(repo.root, "adder", 2, adder(2));
    await until(() => p!.runtime.repository.isReady("adder", "2"));
    expect(await ask()).toEqual(["2", 3]);
  });

  it("falls back to the next execution provider, or fails loudly when told to", async () => {
    repo = tempRepository();
    // webgpu and cuda cannot start on a machine without a GPU runtime, which is what these tests need.
    writeModel(
      repo.root,
      "adder",
      1,
      adder(1),
      "execution_providers: [cuda, webgpu, cpu]\nprovider_fallback: true\n",
    );
    writeModel(repo.root, "strict", 1, adder(1), "execution_providers: [webgpu]\nprovider_fallback: false\n");
    p = await startTestPredictor({ repositoryPath: repo.root, models: ["adder"] });
    await p.runtime.ready;
    const meta = await callUnary(p.client.modelMetadata.bind(p.client), { name: "adder", version: "" });
    expect(meta.properties.execution_provider).toBe("cpu");
    const error = await repoCall("loadModel", { name: "strict" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect((error as { details: string }).details).toMatch(
      /strict version 1: execution provider failed to start \(webgpu: .*provider_fallback is off/,
    );
  });

  it("stays NOT_SERVING while a configured model fails, names it, and turns ready once it is fixed", async () => {
    repo = tempRepository();
    writeModel(repo.root, "adder", 1, adder(1), "max_batch_size: -3\n");
    p = await startTestPredictor({ repositoryPath: repo.root, pollIntervalMs: 50 });
    await expect(p.runtime.ready).rejects.toThrow(/adder: model adder: invalid config: max_batch_size/);
    expect(p.host.servingStatus("inference.GRPCInferenceService")).toBe("NOT_SERVING");
    const ready = await callUnary(p.client.serverReady.bind(p.client), {});
    expect(ready.ready).toBe(false);
    rmSync(join(repo.root, "adder", "config.yaml"));
    await until(() => p!.host.servingStatus("inference.GRPCInferenceService") === "SERVING");
    expect(await ask()).toEqual(["1", 2]);
  });
});
