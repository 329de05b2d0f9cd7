import { type Context, context, ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { RandomIdGenerator } from "@opentelemetry/sdk-trace-base";

/**
 * The SDK's own generator (Math.random, as every span's ids are): these ids
 * identify, they do not protect, and two randomBytes calls per run were 11%
 * of a replay's CPU, whose virtual clock runs the one-second readahead once
 * per simulated second.
 */
const ids = new RandomIdGenerator();

/**
 * A context whose parent is a valid span that was not sampled. Under every
 * parent-based sampler (the shipped ones) nothing started in it records,
 * here or in the services it calls: the gRPC instrumentation propagates the
 * unsampled flag, and the server's sampler follows it. Routine work that
 * polls (the one-second readahead, load sampling) runs in it, so an idle
 * mesh makes no traces; when such work finds something to do, it opens a new
 * root span (`withSpan(..., { parent: ROOT_CONTEXT })`) for that part.
 */
export function quietContext(): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    traceFlags: TraceFlags.NONE,
    isRemote: false,
  });
}

/** Runs `fn` in a quietContext(). */
export function runQuietly<T>(fn: () => T): T {
  return context.with(quietContext(), fn);
}
