import {
  type Attributes,
  type Context,
  context,
  type Link,
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
