import { describe, expect, it } from "vitest";
import { tracingDecision } from "./config.js";

describe("tracingDecision", () => {
  it("is off with no endpoint, even with the otlp exporter named", () => {
    expect(tracingDecision({}).enabled).toBe(false);
    expect(tracingDecision({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: " " }).enabled).toBe(
      false,
    );
  });

  it("is on with either endpoint variable", () => {
    expect(tracingDecision({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4317" })).toEqual({
      enabled: true,
      reason: "exporting to http://collector:4317",
    });
    expect(tracingDecision({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" }).enabled).toBe(
      true,
    );
  });

  it("is on for the console exporter without an endpoint", () => {
    expect(tracingDecision({ OTEL_TRACES_EXPORTER: "console" }).enabled).toBe(true);
  });

  it("is off when disabled, whatever else is set", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4317" };
    expect(tracingDecision({ ...endpoint, OTEL_SDK_DISABLED: "TRUE" }).enabled).toBe(false);
    expect(tracingDecision({ ...endpoint, OTEL_TRACES_EXPORTER: "none" }).enabled).toBe(false);
    expect(tracingDecision({ ...endpoint, OTEL_SDK_DISABLED: "false" }).enabled).toBe(true);
  });
});
