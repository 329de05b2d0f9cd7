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

  it("says an address that is not host:port is not, and only then checks its port", () => {
    const message = (env: NodeJS.ProcessEnv) => {
      try {
        loadCommonEnv(env);
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    };
    expect(message({ PRESCIENT_ADDR: "nonsense" })).toBe(
      'invalid configuration: PRESCIENT_ADDR ("nonsense"): expected host:port, e.g. 127.0.0.1:50051',
    );
    expect(message({ PRESCIENT_ADDR: "127.0.0.1:70000" })).toBe(
      'invalid configuration: PRESCIENT_ADDR ("127.0.0.1:70000"): port must be at most 65535',
    );
    expect(message({ PRESCIENT_METRICS_PORT: "x" })).toBe(
      'invalid configuration: PRESCIENT_METRICS_PORT ("x"): expected an integer from 0 to 65535',
    );
    expect(message({ LOG_LEVEL: "loud" })).toMatch(/^invalid configuration: LOG_LEVEL \("loud"\): /);
  });
});
