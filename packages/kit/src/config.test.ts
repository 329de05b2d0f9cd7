import { describe, expect, it } from "vitest";
import { isConfigError, loadCommonEnv } from "./config.js";

describe("loadCommonEnv", () => {
  it("applies defaults", () => {
    const env = loadCommonEnv({});
    expect(env.PRESCIENT_ADDR).toBe("127.0.0.1:50051");
    expect(env.PRESCIENT_METRICS_PORT).toBe(0);
    expect(env.REDIS_URL).toBeUndefined();
  });

  it("treats empty variables as unset", () => {
    expect(loadCommonEnv({ REDIS_URL: "", PRESCIENT_ADDR: "" }).PRESCIENT_ADDR).toBe("127.0.0.1:50051");
  });

  it("fails naming every bad variable", () => {
    let error: unknown;
    try {
      loadCommonEnv({ PRESCIENT_ADDR: "nope", REDIS_URL: "http://x", PRESCIENT_METRICS_PORT: "70000" });
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain("PRESCIENT_ADDR");
    expect(message).toContain("REDIS_URL");
    expect(message).toContain("PRESCIENT_METRICS_PORT");
  });
});
