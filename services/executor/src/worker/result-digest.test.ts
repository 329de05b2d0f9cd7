import { formatKey, inputDigest } from "@prescient/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryEntityStore } from "../entities/memory-entity-store.js";
import { buildInputs } from "../inputs/build-inputs.js";
import { processBatch } from "./batch-processor.js";
import { type Backends, ctrFeatures, noHandlers, startBackends, taskTypes } from "./pipeline.test-util.js";

/**
 * A stored result's input_digest is the canonical inputDigest of the inputs
 * it was computed from, as any client would work it out. The worker takes a
 * shortcut for rows of finite numbers (JSON.stringify writes them as the
 * canonical form does); numbers whose JSON forms are easy to get wrong
 * (negative zero, exponents both ways, the largest safe integer) must give
 * the same digest as the general path.
 */
let backends: Backends;

beforeAll(async () => {
  backends = await startBackends();
}, 60_000);
afterAll(async () => {
  await backends.close();
});

describe("a computed result's input digest", () => {
  it("is inputDigest of the row's inputs, awkward numbers included", async () => {
    const awkward = [-0, 1e21, 1.5e-7, 0.1, Number.MAX_SAFE_INTEGER, -123.456, 5e-324, 1e-6];
    const features = awkward.map((v, i) => ({
      ...ctrFeatures(i),
      bid: v,
      relevance: awkward[(i + 3) % awkward.length] as number,
    }));
    const entities = new MemoryEntityStore();
    await entities.upsertMany(features.map((f, i) => ({ tenant: "acme", entityId: `ad-${i}`, features: f })));
    const tasks = features.map((_, i) => ({
      id: `t${i}`,
      key: formatKey({ tenant: "acme", taskType: "ctr_prediction", entityId: `ad-${i}` }),
    }));

    const outcome = await processBatch(tasks, {
      taskTypes,
      entities,
      predictor: backends.predictor,
      handlers: noHandlers,
      sink: backends.sink,
    });
    expect(outcome.failed).toEqual([]);

    const built = buildInputs(taskTypes.get("ctr_prediction"), features);
    for (const [row, index] of built.rows.entries()) {
      const inputs = built.tensors.map((t) => t.values.slice(row * t.shape[1], (row + 1) * t.shape[1]));
      const answer = await backends.lookup({
        tenant: "acme",
        taskType: "ctr_prediction",
        entityId: `ad-${index}`,
      });
      expect(answer.hit).toBe(true);
      expect(answer.result?.inputDigest).toBe(inputDigest(inputs));
    }
  });
});
