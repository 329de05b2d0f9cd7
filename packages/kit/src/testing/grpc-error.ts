import type { ServiceError, status } from "@grpc/grpc-js";

/** The status code and message a call failed with; throws if it succeeded. For tests. */
export async function grpcError(call: Promise<unknown>): Promise<{ code: status; details: string }> {
  try {
    await call;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error("expected the call to fail");
}
