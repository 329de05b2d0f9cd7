import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  type Link,
  type SpanContext,
  trace,
} from "@opentelemetry/api";

/**
 * W3C trace context stored inside a task (a plain, JSON-safe object), so that
 * whoever computes the task later can link to or continue whoever asked for
 * it. Both fields are absent when there was no active span.
 *
 * This is written and read here rather than through the global propagator: a
 * stored task must hold `traceparent` whatever OTEL_PROPAGATORS says.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** version-traceid-parentid-flags, lower-case hex (W3C Trace Context, level 1). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The trace context of `ctx` (default: the active one); empty when there is no valid span. */
export function injectContext(ctx: Context = context.active()): TraceCarrier {
  const span = trace.getSpanContext(ctx);
  if (span === undefined || !isSpanContextValid(span)) return {};
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, "0");
  const carrier: TraceCarrier = { traceparent: `00-${span.traceId}-${span.spanId}-${flags}` };
  const state = span.traceState?.serialize();
  if (state) carrier.tracestate = state;
  return carrier;
}

/** The remote span context a carrier holds, or undefined when it holds none or a malformed one. */
export function spanContextFromCarrier(carrier: TraceCarrier | undefined): SpanContext | undefined {
  const match = carrier?.traceparent === undefined ? null : TRACEPARENT.exec(carrier.traceparent.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  // Version ff is forbidden; version 00 has exactly four fields. Later versions may append fields.
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === undefined || spanId === undefined || flags === undefined) return undefined;
  const span: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
  if (!isSpanContextValid(span)) return undefined;
  if (carrier?.tracestate) span.traceState = createTraceState(carrier.tracestate);
  return span;
}

/**
 * `base` (default: the active context) with the carrier's span as parent, so
 * spans started in it continue the stored trace. `base` itself when the
 * carrier is empty or malformed.
 */
export function extractContext(carrier: TraceCarrier | undefined, base: Context = context.active()): Context {
  const span = spanContextFromCarrier(carrier);
  return span === undefined ? base : trace.setSpanContext(base, span);
}

/**
 * A span link to the carrier's context, for work that serves many requesters
 * at once (the executor's batch span links to every task it computes).
 */
export function linkFromCarrier(
  carrier: TraceCarrier | undefined,
  attributes?: Attributes,
): Link | undefined {
  const span = spanContextFromCarrier(carrier);
  if (span === undefined) return undefined;
  return attributes === undefined ? { context: span } : { context: span, attributes };
}

/**
 * One link per distinct span among the carriers, empty and malformed ones
 * skipped. Coalesced tasks often share a requester; one link each is enough.
 * (The SDK keeps at most OTEL_SPAN_LINK_COUNT_LIMIT links per span, 128 by default.)
 */
export function linksFromCarriers(carriers: Iterable<TraceCarrier | undefined>): Link[] {
  const links = new Map<string, Link>();
  for (const carrier of carriers) {
    const link = linkFromCarrier(carrier);
    if (link !== undefined) links.set(`${link.context.traceId}-${link.context.spanId}`, link);
  }
  return [...links.values()];
}

/** The active span's traceparent (for logs and error messages); "" when no span is active. */
export function currentTraceparent(): string {
  return injectContext().traceparent ?? "";
}
