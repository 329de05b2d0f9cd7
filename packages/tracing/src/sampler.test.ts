import { context, ROOT_CONTEXT, SpanKind, TraceFlags, trace } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { quietContext } from "./quiet.js";
import { samplerFromEnv } from "./sampler.js";

const link = (sampled: boolean) => ({
  context: {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
  },
});

/** A trace id that a ratio of 0.1 never keeps (the SDK XORs its four 32-bit words and keeps those under ratio × 2^32). */
const unkeptTraceId = "ffffffff000000000000000000000000";

function decide(
  env: Record<string, string>,
  options: { links?: ReturnType<typeof link>[]; parent?: "quiet" },
) {
  const ctx = options.parent === "quiet" ? quietContext() : ROOT_CONTEXT;
  return samplerFromEnv(env).shouldSample(
    ctx,
    unkeptTraceId,
    "executor.batch",
    SpanKind.INTERNAL,
    {},
    options.links ?? [],
  ).decision;
}

describe("samplerFromEnv", () => {
  const ratio = { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" };

  it("keeps a root whose link was sampled, though the ratio would drop it", () => {
    expect(decide(ratio, {})).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(ratio, { links: [link(false), link(true)] })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("leaves roots whose links were all unsampled to the ratio", () => {
    expect(decide(ratio, { links: [link(false), link(false)] })).toBe(SamplingDecision.NOT_RECORD);
  });

  it("follows an unsampled parent even with a sampled link: quiet work stays quiet", () => {
    expect(decide(ratio, { parent: "quiet", links: [link(true)] })).toBe(SamplingDecision.NOT_RECORD);
    expect(decide({}, { parent: "quiet" })).toBe(SamplingDecision.NOT_RECORD);
  });

  it("defaults to parentbased_always_on, and always_off keeps nothing, links or not", () => {
    expect(decide({}, {})).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({ OTEL_TRACES_SAMPLER: "always_off" }, { links: [link(true)] })).toBe(
      SamplingDecision.NOT_RECORD,
    );
  });

  it("falls back to parentbased_always_on for an unknown name or a bad ratio", () => {
    expect(decide({ OTEL_TRACES_SAMPLER: "bogus" }, {})).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "7" }, {})).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });
});

describe("quietContext", () => {
  it("holds a valid, unsampled parent, fresh each time", () => {
    const a = trace.getSpanContext(quietContext());
    const b = trace.getSpanContext(quietContext());
    expect(a?.traceFlags).toBe(TraceFlags.NONE);
    expect(a?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a?.traceId).not.toBe(b?.traceId);
    expect(trace.getSpanContext(context.active())).toBeUndefined();
  });
});
