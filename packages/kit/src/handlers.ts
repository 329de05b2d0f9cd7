import type {
  handleClientStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerReadableStream,
  ServerUnaryCall,
  sendUnaryData,
} from "@grpc/grpc-js";
import { CancelledError, errorMessage } from "@prescient/core";
import { Counter, Histogram } from "prom-client";
import { LogRateLimit } from "./log-rate-limit.js";
import { createLogger } from "./logger.js";
import { kitRegistry } from "./metrics.js";
import { toServiceError } from "./status.js";
import { statusName } from "./wire/status.js";

/** What a handler may know about its call besides the request. */
export interface CallContext {
  /** Absolute deadline in ms since the epoch, if the client set one. */
  deadlineMs: number | undefined;
  /**
   * Runs `listener` once when the client cancels or the deadline passes (at
   * once if that has happened), unless the handler has settled; answers a
   * function that takes it back. A listener on the call rather than an
   * AbortSignal: an AbortController and an EventTarget per call cost the
   * predictor's batcher about 6 µs a queued request.
   */
  onCancel(listener: () => void): () => void;
  metadata: Metadata;
}

const unregistered = (): void => {};

/** Where handlers' failures are logged; exported so tests can watch it. */
export const handlerLog = createLogger("grpc");

/**
 * Clients that drop a client stream mid-way (a crash, a cancel, a malformed
 * frame) are the client's business: one warn line per 10 s with a count,
 * not an error-level stack trace each.
 */
const abortedStreams = new LogRateLimit(10_000);

const handled = new Counter({
  name: "prescient_grpc_server_handled_total",
  help: "RPCs completed on the server, by method and status code.",
  labelNames: ["grpc_service", "grpc_method", "grpc_code"] as const,
  registers: [kitRegistry],
});

const handling = new Histogram({
  name: "prescient_grpc_server_handling_seconds",
  help: "Time from receiving an RPC to sending its answer.",
  labelNames: ["grpc_service", "grpc_method"] as const,
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [kitRegistry],
});

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerReadableStream<unknown, unknown>;

/**
 * The call's context. Nothing listens for cancellation unless a handler asks
 * (onCancel): most calls finish in well under a millisecond.
 *
 * grpc-js reports every call's stream close as a cancellation, answered or
 * not, so once the handler has settled its listeners are dropped: a finished
 * call never tells them.
 *
 * A class, not an object literal with a getter and a closure per call: V8
 * allocated those in the old generation (about 4 KB a call promoted on a
 * c=1 Lookup loop, 6-9 ms scavenges and a 36 ms mark-compact about every
 * 10 s), where a class instance dies young.
 */
class HandlerCallContext implements CallContext {
  readonly deadlineMs: number | undefined;
  readonly metadata: Metadata;
  readonly #call: AnyCall;
  /** onCancel's listeners still registered (dropped when the handler settles). */
  #cancelListeners: Array<() => void> | undefined;
  #done = false;

  constructor(call: AnyCall) {
    this.#call = call;
    this.metadata = call.metadata;
    const deadline = call.getDeadline();
    this.deadlineMs =
      deadline instanceof Date
        ? deadline.getTime()
        : Number.isFinite(deadline)
          ? Number(deadline)
          : undefined;
  }

  onCancel(listener: () => void): () => void {
    if (this.#done) return unregistered;
    if (this.#call.cancelled) {
      listener();
      return unregistered;
    }
    this.#call.once("cancelled", listener);
    this.#cancelListeners ??= [];
    this.#cancelListeners.push(listener);
    return () => {
      this.#call.removeListener("cancelled", listener);
      const listeners = this.#cancelListeners;
      const at = listeners?.indexOf(listener) ?? -1;
      if (at >= 0) listeners?.splice(at, 1);
    };
  }

  /** The handler settled: a later close of the stream is no cancellation. */
  settled(): void {
    this.#done = true;
    for (const listener of this.#cancelListeners ?? []) this.#call.removeListener("cancelled", listener);
    this.#cancelListeners = undefined;
  }
}

/** Metric children of one method, looked up once rather than per call. */
interface MethodMetrics {
  timer: ReturnType<typeof handling.labels>;
  handled(code: string): ReturnType<typeof handled.labels>;
}

function methodMetrics(service: string, method: string): MethodMetrics {
  const byCode = new Map<string, ReturnType<typeof handled.labels>>();
  return {
    timer: handling.labels(service, method),
    handled(code) {
      let child = byCode.get(code);
      if (child === undefined) {
        child = handled.labels(service, method, code);
        byCode.set(code, child);
      }
      return child;
    },
  };
}

/** Times a call and maps its outcome (or thrown domain error) to a gRPC answer. */
function finish<Res>(
  metrics: MethodMetrics,
  where: { service: string; method: string },
  started: bigint,
  work: Promise<Res>,
  callback: sendUnaryData<Res>,
  ctx: HandlerCallContext,
): void {
  work.then(
    (response) => {
      ctx.settled();
      metrics.timer.observe(Number(process.hrtime.bigint() - started) / 1e9);
      metrics.handled("OK").inc();
      callback(null, response);
    },
    (e: unknown) => {
      ctx.settled();
      metrics.timer.observe(Number(process.hrtime.bigint() - started) / 1e9);
      const { error, unexpected } = toServiceError(e);
      metrics.handled(statusName(error.code)).inc();
      if (unexpected) handlerLog.error({ err: e, ...where }, "handler failed unexpectedly");
      callback(error, null);
    },
  );
}

/** Adapts `async (request, ctx) => response` to a grpc-js unary handler. */
export function unary<Req, Res>(
  service: string,
  method: string,
  handler: (request: Req, ctx: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  const metrics = methodMetrics(service, method);
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const ctx = new HandlerCallContext(call as AnyCall);
    let work: Promise<Res>;
    try {
      work = handler(call.request, ctx);
    } catch (e) {
      work = Promise.reject(e);
    }
    finish(metrics, { service, method }, started, work, callback, ctx);
  };
}

/** Adapts `async (messages, ctx) => response` to a grpc-js client-streaming handler. */
export function clientStream<Req, Res>(
  service: string,
  method: string,
  handler: (messages: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
): handleClientStreamingCall<Req, Res> {
  const metrics = methodMetrics(service, method);
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const ctx = new HandlerCallContext(call as AnyCall);
    let work: Promise<Res>;
    try {
      work = handler(call as AsyncIterable<Req>, ctx);
    } catch (e) {
      work = Promise.reject(e);
    }
    const aborted = work.catch((e: unknown) => {
      if (!call.cancelled && !isPrematureClose(e)) throw e;
      const note = abortedStreams.take();
      if (note !== undefined)
        handlerLog.warn(
          { service, method, err: errorMessage(e), suppressed: note.suppressed },
          "client stream ended early",
        );
      throw new CancelledError("the client stream ended before it was half-closed");
    });
    finish(metrics, { service, method }, started, aborted, callback, ctx);
  };
}

/** The error Node's stream iterator throws when the peer goes away mid-stream. */
function isPrematureClose(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === "ERR_STREAM_PREMATURE_CLOSE";
}
