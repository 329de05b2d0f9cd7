import type { InferenceSession } from "onnxruntime-node";
import type { ExecutionProviderName } from "./model-config.js";

/**
 * How ONNX Runtime runs one session's graph: the thread settings of a model's
 * config (defaults in model-config.ts), turned into session options in this
 * one place, so that the predictor and a benchmark's raw baseline build the
 * same session from the same config.
 *
 * onnxruntime-node runs a session on the JavaScript thread that calls it,
 * so compute cannot overlap the event loop's gRPC work; what can overlap is
 * compute with compute. Intra-op threads split each operator (a large Gemm)
 * across cores, inter-op threads run independent branches of the graph at
 * once in parallel mode. Spinning keeps pool threads busy-waiting between
 * operators; it trades CPU for latency, and on a server whose event loop
 * needs that CPU for the next requests it is off unless asked for.
 */
export interface SessionThreading {
  /** Threads per operator, the calling thread included. */
  intraOpThreads: number;
  /** Threads for independent graph branches; used only in parallel mode. */
  interOpThreads: number;
  executionMode: "sequential" | "parallel";
  /** Whether idle intra-op pool threads busy-wait for the next operator. */
  intraOpSpinning: boolean;
}

export function ortSessionOptions(
  provider: ExecutionProviderName,
  threading: SessionThreading,
): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: threading.intraOpThreads,
    interOpNumThreads: threading.interOpThreads,
    executionMode: threading.executionMode,
    graphOptimizationLevel: "all",
    // ORT's session config entries (onnxruntime_session_options_config_keys.h), as strings.
    extra: {
      session: {
        intra_op: { allow_spinning: threading.intraOpSpinning ? "1" : "0" },
        inter_op: { allow_spinning: threading.intraOpSpinning ? "1" : "0" },
      },
    },
  };
}
