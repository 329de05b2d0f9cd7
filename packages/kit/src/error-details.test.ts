import { status } from "@grpc/grpc-js";
import { InvalidArgumentError } from "@prescient/core";
import { describe, expect, it } from "vitest";
import { maxErrorDetailsChars, safeErrorDetails, scrubPaths } from "./error-details.js";
import { toServiceError } from "./status.js";

describe("error details sent to clients", () => {
  it("are capped, with an ellipsis, however large the message", () => {
    const { error } = toServiceError(new InvalidArgumentError(`bad shape [${"1, ".repeat(2_000_000)}]`));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details.length).toBeLessThanOrEqual(maxErrorDetailsChars);
    expect(error.details.endsWith("…")).toBe(true);
    expect(error.message).toBe(error.details);
    expect(safeErrorDetails("short")).toBe("short");
  });

  it("name no internal absolute path, keeping the file's name", () => {
    const text =
      "Load model from /work/main/services/predictor/models/adder/1/model.onnx failed; " +
      "see /tmp/prescient-models-abc/adder/config.yaml and file:///home/ci/repo/x.onnx";
    const out = scrubPaths(text);
    expect(out).not.toMatch(/\/work|\/tmp|\/home/);
    expect(out).toContain("<path>/model.onnx");
    expect(out).toContain("<path>/config.yaml");
    expect(out).toContain("<path>/x.onnx");
    const { error } = toServiceError(new Error(text));
    expect(error.details).not.toContain("/work/main");
  });

  it("leave URLs, gRPC method names and ratios alone", () => {
    const text = "redis://127.0.0.1:6379/0 /prescient.cache.v1.CacheService/Lookup 3/4 a/tmp/b";
    expect(scrubPaths(text)).toBe(text);
  });
});
