import { inference } from "@prescient/contracts";
import { callUnary, kitRegistry } from "@prescient/kit";
import { metricValue } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIdentityModel } from "../models/onnx-graph.js";
import {
  startTestPredictor,
  type TestPredictor,
  tempRepository,
  writeModel,
} from "../predictor.test-util.js";

/**
 * A request waiting in the dynamic batcher's queue leaves it as soon as its
 * client cancels (the call's onCancel), rather than holding its place until
 * the batch would have run: over real gRPC, with a queue delay long enough
 * that only the cancellation can end the wait.
 */
describe("a ModelInfer cancelled by its client while queued", () => {
  let p: TestPredictor;
  let repo: ReturnType<typeof tempRepository>;

  beforeAll(async () => {
    repo = tempRepository();
    writeModel(
      repo.root,
      "identity_slow_batch",
      1,
      buildIdentityModel("FP32", ["batch", 2]),
      "max_batch_size: 8\nmax_queue_delay_ms: 5000\n",
    );
    p = await startTestPredictor({ repositoryPath: repo.root });
    await p.runtime.ready;
  });

  afterAll(async () => {
    await p?.close();
    repo?.remove();
  });

  const pending = async (): Promise<number | undefined> =>
    metricValue(await kitRegistry.metrics(), "prescient_inference_pending_request_count", {
      model: "identity_slow_batch",
      version: "1",
    });

  async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return check();
  }

  it("leaves the queue at once", async () => {
    const controller = new AbortController();
    const request = inference.ModelInferRequest.fromPartial({
      modelName: "identity_slow_batch",
      inputs: [{ name: "input", datatype: "FP32", shape: [1, 2], contents: { fp32Contents: [1, 2] } }],
    });
    const call = callUnary(p.client.modelInfer.bind(p.client), request, { signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect(await until(async () => (await pending()) === 1, 2000)).toBe(true);
    const cancelledAt = Date.now();
    controller.abort();
    await call;
    // Without the cancellation the request would wait out the 5 s delay.
    expect(await until(async () => (await pending()) === 0, 1000)).toBe(true);
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
  });
});
