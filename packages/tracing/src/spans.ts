import {
  type Attributes,
  type Context,
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";

/** The instrumentation scope of spans made without naming one. */
const DEFAULT_TRACER = "prescient";

/**
 * A tracer from the global provider. Before the SDK starts, or when it never
 * does, this is the API's no-op tracer: spans cost an object and record nothing.
 */
export function tracer(name: string = DEFAULT_TRACER): Tracer {
  return trace.getTracer(name);
}

export interface WithSpanOptions {
  /** Default INTERNAL. */
  kind?: SpanKind;
  /** Links to other traces, e.g. `linksFromCarriers(tasks.map((t) => t.trace))`. */
  links?: Link[];
  /** The parent context; default the active one. Pass `extractContext(task.trace)` to continue a stored trace. */
  parent?: Context;
  /** Default `tracer()`. */
  tracer?: Tracer;
}

/**
 * Runs `fn` inside a new active span for one domain step (build tensors,
 * write results, score a key). The span ends when `fn` settles; a throw is
 * recorded on the span, marks it ERROR, and is rethrown unchanged.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => T | Promise<T>,
  options: WithSpanOptions = {},
): Promise<T> {
  const spanOptions: SpanOptions = { attributes };
  if (options.kind !== undefined) spanOptions.kind = options.kind;
  if (options.links !== undefined && options.links.length > 0) spanOptions.links = options.links;
  const parent = options.parent ?? context.active();
  return (options.tracer ?? tracer()).startActiveSpan(name, spanOptions, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Domain attributes on spans. Values are bounded (see `boundedAttributes`)
 * and never hold features, payloads or tokens.
 */
export const domainAttribute = {
  tenant: "prescient.tenant",
  taskType: "prescient.task_type",
  reason: "prescient.task.reason",
  taskId: "prescient.task.id",
  outcome: "prescient.task.outcome",
  lookupOutcome: "prescient.lookup.outcome",
  modelName: "prescient.model.name",
  modelVersion: "prescient.model.version",
  batchSize: "prescient.batch.size",
  schedule: "prescient.schedule",
  job: "prescient.schedule.job",
  run: "prescient.schedule.run",
  eventType: "prescient.event.type",
} as const;

/** Longest string value kept on a span; client input (a tenant) can be longer. */
const MAX_VALUE_LENGTH = 128;

/**
 * `attributes` with undefined values left out and strings cut to 128
 * characters, so a span's size does not follow client input.
 */
export function boundedAttributes(
  attributes: Record<string, string | number | boolean | undefined>,
): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out[key] =
      typeof value === "string" && value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value;
  }
  return out;
}

/**
 * Adds domain attributes to the active span: in a handler, the server span
 * that the gRPC instrumentation made. A no-op when nothing records.
 */
export function annotateActiveSpan(attributes: Record<string, string | number | boolean | undefined>): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  span.setAttributes(boundedAttributes(attributes));
}

/** Records a failure on the active span (ERROR, with a bounded message) without throwing. */
export function markActiveSpanError(
  message: string,
  attributes?: Record<string, string | number | undefined>,
): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  const text = message.length > 512 ? `${message.slice(0, 512)}…` : message;
  span.addEvent("error", boundedAttributes({ ...attributes, "error.message": text }));
  span.setStatus({ code: SpanStatusCode.ERROR, message: text });
}

/** The same as `withSpan`, as a new root: for work that starts a trace of its own (a schedule run, a flush). */
export function withRootSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => T | Promise<T>,
  options: Omit<WithSpanOptions, "parent"> = {},
): Promise<T> {
  return withSpan(name, attributes, fn, { ...options, parent: ROOT_CONTEXT });
}

/**
 * A span for work that someone may have asked for: a child of the active
 * span when that one records (an RPC asked to run a schedule now), else the
 * root of a new trace (a timer started it, inside a quietContext()).
 */
export function withWorkSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => T | Promise<T>,
): Promise<T> {
  const asked = trace.getActiveSpan()?.isRecording() === true;
  return withSpan(name, attributes, fn, { parent: asked ? context.active() : ROOT_CONTEXT });
}
