import { kitRegistry, ServiceHost } from "@prescient/kit";
import { metricValue } from "@prescient/kit/testing";
import { afterEach, describe, expect, it } from "vitest";
import { startPredictor } from "./predictor.js";
import { quietLogger } from "./predictor.test-util.js";

describe("predictor metrics", () => {
  let host: ServiceHost | undefined;
  afterEach(async () => {
    await host?.shutdown();
    host = undefined;
  });

  it("reports each model version ready while it serves, and not once it is unloaded", async () => {
    host = new ServiceHost({ address: "127.0.0.1:0", logger: quietLogger, drainTimeoutMs: 1000 });
    const runtime = startPredictor(host, {
      logger: quietLogger,
      pollIntervalMs: 0,
      models: ["ctr_prediction", "roas_prediction"],
    });
    await Promise.all([host.start(), runtime.ready]);
    const ready = async (model: string) =>
      metricValue(await kitRegistry.metrics(), "prescient_inference_model_ready", { model, version: "1" });
    expect(await ready("ctr_prediction")).toBe(1);
    expect(await ready("roas_prediction")).toBe(1);

    await runtime.repository.unload("roas_prediction");
    expect(await ready("roas_prediction")).toBe(0);
    expect(await ready("ctr_prediction")).toBe(1);
  });
});
