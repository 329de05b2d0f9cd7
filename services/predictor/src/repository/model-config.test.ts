import { describe, expect, it } from "vitest";
import { parseModelConfig, selectVersions } from "./model-config.js";

describe("model config", () => {
  it("fills every default from an empty file", () => {
    expect(parseModelConfig("", "m")).toEqual({
      maxBatchSize: 256,
      dynamicBatching: true,
      maxQueueDelayMs: 0,
      preferredBatchSizes: [],
      instanceCount: 1,
      runInWorker: false,
      executionProviders: ["cpu"],
      providerFallback: true,
      intraOpThreads: 1,
      interOpThreads: 1,
      executionMode: "sequential",
      intraOpSpinning: false,
      priorityLevels: 1,
      defaultPriorityLevel: 1,
      maxQueueSize: 4096,
      defaultQueueTimeoutMs: 0,
      versionPolicy: { latest: 1 },
    });
  });

  it("reads JSON as well as YAML, and turns batching off for max_batch_size 0", () => {
    const c = parseModelConfig(
      '{"max_batch_size": 0, "execution_providers": ["cuda", "cpu"], "priority_levels": 3}',
      "m",
    );
    expect(c.dynamicBatching).toBe(false);
    expect(c.executionProviders).toEqual(["cuda", "cpu"]);
    expect(c.defaultPriorityLevel).toBe(3);
  });

  it.each([
    ["max_batch_size: many", /model m: invalid config: max_batch_size:/],
    ["execution_providers: [tpu]", /execution_providers.0:/],
    ["colour: blue", /Unrecognized key.*colour/],
    ["name: other", /name "other" differs from its directory/],
    ["max_batch_size: 4\npreferred_batch_sizes: [8]", /preferred batch size 8 exceeds max_batch_size 4/],
    ["priority_levels: 2\ndefault_priority_level: 3", /default_priority_level 3 exceeds priority_levels 2/],
    ["version_policy: { newest: 2 }", /version_policy/],
    ["max_batch_size: [", /not valid YAML/],
  ])("rejects %j naming the field", (text, message) => {
    expect(() => parseModelConfig(text, "m")).toThrow(message);
  });

  it("selects versions by policy, highest first", () => {
    expect(selectVersions({ latest: 2 }, [1, 3, 2])).toEqual([3, 2]);
    expect(selectVersions({ specific: [1, 5] }, [1, 2, 3])).toEqual([1]);
    expect(selectVersions({ all: true }, [2, 1])).toEqual([2, 1]);
  });
});
