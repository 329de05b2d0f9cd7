import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type InMemoryTracing, installInMemoryTracing } from "./in-memory-tracing.test-util.js";
import { tracer, withSpan } from "./spans.js";

describe("withSpan", () => {
  let tracing: InMemoryTracing;
  beforeAll(() => {
    tracing = installInMemoryTracing();
  });
  afterAll(() => tracing.uninstall());
  beforeEach(() => tracing.exporter.reset());

  it("nests across awaits and returns the value", async () => {
    const value = await withSpan("outer", { "task.type": "ctr" }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return withSpan("inner", {}, () => 42);
    });
    expect(value).toBe(42);
    const [inner, outer] = tracing.exporter.getFinishedSpans();
    expect(inner?.name).toBe("inner");
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(outer?.attributes).toEqual({ "task.type": "ctr" });
    expect(outer?.kind).toBe(SpanKind.INTERNAL);
    expect(outer?.instrumentationScope.name).toBe("prescient");
  });

  it("records a failure and rethrows it unchanged", async () => {
    const error = new RangeError("bad input");
    await expect(withSpan("fails", {}, () => Promise.reject(error))).rejects.toBe(error);
    const [span] = tracing.exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: "bad input" });
    expect(span?.events.map((e) => e.name)).toEqual(["exception"]);
    expect(span?.ended).toBe(true);
  });

  it("takes a kind and a named tracer", async () => {
    await withSpan("call", {}, () => undefined, { kind: SpanKind.CLIENT, tracer: tracer("executor") });
    const [span] = tracing.exporter.getFinishedSpans();
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.instrumentationScope.name).toBe("executor");
  });
});
