import { context, type Span, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  currentTraceparent,
  extractContext,
  injectContext,
  linkFromCarrier,
  linksFromCarriers,
  spanContextFromCarrier,
} from "./carrier.js";
import { type InMemoryTracing, installInMemoryTracing } from "./in-memory-tracing.test-util.js";
import { withSpan } from "./spans.js";

const PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("with no SDK started", () => {
  it("injects empty carriers and has no traceparent", async () => {
    expect(injectContext()).toEqual({});
    expect(currentTraceparent()).toBe("");
    expect(await withSpan("step", {}, () => [injectContext(), currentTraceparent()])).toEqual([{}, ""]);
  });

  it("still reads carriers, which are plain data", () => {
    expect(linkFromCarrier({ traceparent: PARENT })?.context.spanId).toBe("b7ad6b7169203331");
  });
});

describe("with a recording provider", () => {
  let tracing: InMemoryTracing;
  beforeAll(() => {
    tracing = installInMemoryTracing();
  });
  afterAll(() => tracing.uninstall());

  it("round-trips the active span through a stored task", async () => {
    const stored = await withSpan("trigger", {}, (span) => ({ carrier: injectContext(), span }));
    const json = JSON.parse(JSON.stringify(stored.carrier));
    expect(json.traceparent).toBe(
      `00-${stored.span.spanContext().traceId}-${stored.span.spanContext().spanId}-01`,
    );
    expect(currentTraceparent()).toBe("");

    // Later, elsewhere: the computation continues the requester's trace.
    const child = await withSpan("compute", {}, (span) => span, { parent: extractContext(json) });
    expect(child.spanContext().traceId).toBe(stored.span.spanContext().traceId);
    const finished = tracing.exporter.getFinishedSpans().find((s) => s.name === "compute");
    expect(finished?.parentSpanContext?.spanId).toBe(stored.span.spanContext().spanId);
    expect(finished?.parentSpanContext?.isRemote).toBe(true);
  });

  it("carries tracestate", () => {
    const ctx = extractContext({ traceparent: PARENT, tracestate: "vendor=a,other=b" });
    expect(injectContext(ctx)).toEqual({ traceparent: PARENT, tracestate: "vendor=a,other=b" });
  });

  it("gives currentTraceparent inside a span", async () => {
    const seen = await withSpan("x", {}, (span: Span) => [currentTraceparent(), span.spanContext().spanId]);
    expect(seen[0]).toMatch(new RegExp(`^00-[0-9a-f]{32}-${seen[1]}-01$`));
  });

  it("links a batch span to every distinct requester", async () => {
    const carriers = await Promise.all(["a", "b"].map((name) => withSpan(name, {}, () => injectContext())));
    const links = linksFromCarriers([...carriers, carriers[0], undefined, {}, { traceparent: "junk" }]);
    expect(links).toHaveLength(2);
    await withSpan("executor.batch", { "batch.size": 4 }, () => undefined, { links });

    const batch = tracing.exporter.getFinishedSpans().find((s) => s.name === "executor.batch");
    expect(batch?.links.map((l) => `00-${l.context.traceId}-${l.context.spanId}-01`)).toEqual(
      carriers.map((c) => c.traceparent),
    );
    // A link is not a parent: the batch starts its own trace.
    expect(batch?.parentSpanContext).toBeUndefined();
  });

  it("keeps link attributes", () => {
    expect(linkFromCarrier({ traceparent: PARENT }, { "task.key": "t/ctr/1" })?.attributes).toEqual({
      "task.key": "t/ctr/1",
    });
  });

  it("ignores empty and malformed carriers", () => {
    const base = context.active();
    for (const traceparent of [
      "",
      "junk",
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", // no flags
      "00-00000000000000000000000000000000-b7ad6b7169203331-01", // zero trace id
      "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // zero span id
      "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // forbidden version
      "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", // upper case
      `${PARENT}-extra`, // version 00 has four fields
    ]) {
      expect(spanContextFromCarrier({ traceparent }), traceparent).toBeUndefined();
      expect(linkFromCarrier({ traceparent }), traceparent).toBeUndefined();
      expect(extractContext({ traceparent }, base)).toBe(base);
    }
    expect(extractContext(undefined, base)).toBe(base);
    expect(trace.getSpanContext(extractContext({}, base))).toBeUndefined();
  });

  it("accepts later versions with extra fields", () => {
    const span = spanContextFromCarrier({ traceparent: `01-${PARENT.slice(3)}-future` });
    expect(span?.spanId).toBe("b7ad6b7169203331");
  });
});
