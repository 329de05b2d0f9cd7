import {
  type CallOptions,
  type ClientOptions,
  type ClientUnaryCall,
  credentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { peerTokenInterceptor } from "./auth/peer-token.js";

/**
 * Options every prescient client uses: channel limits, and the interceptor
 * that sends this process's peer token when auth set one (peer-token.ts).
 */
export function clientChannelOptions(maxMessageBytes = 16 * 1024 * 1024): ClientOptions {
  return {
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_send_message_length": maxMessageBytes,
    "grpc.keepalive_time_ms": 30_000,
    interceptors: [peerTokenInterceptor],
  };
}

export const insecure = credentials.createInsecure;

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

export interface CallSettings {
  /** Relative deadline; none when unset. */
  timeoutMs?: number;
  /** Absolute deadline (ms since epoch); wins over timeoutMs. */
  deadlineMs?: number;
  signal?: AbortSignal;
  metadata?: Metadata;
}

/** Promise form of a generated grpc-js unary method, with a deadline and cancellation. */
export function callUnary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  settings: CallSettings = {},
): Promise<Res> {
  const deadline =
    settings.deadlineMs ?? (settings.timeoutMs !== undefined ? Date.now() + settings.timeoutMs : undefined);
  return new Promise<Res>((resolve, reject) => {
    const signal = settings.signal;
    const onAbort = (): void => call.cancel();
    const call = method(
      request,
      settings.metadata ?? new Metadata(),
      deadline !== undefined ? { deadline } : {},
      (error, response) => {
        // One listener per call would pile up on a long-lived signal.
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve(response);
      },
    );
    if (signal?.aborted) call.cancel();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}
