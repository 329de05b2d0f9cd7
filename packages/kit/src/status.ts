import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { type DomainErrorKind, errorMessage, isDomainError } from "@prescient/core";
import { isConfigError } from "./config.js";

/** The one place where domain errors become gRPC status codes. */
const codeOfKind: Record<DomainErrorKind, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  failed_precondition: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  cancelled: status.CANCELLED,
  permission_denied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
};

export interface MappedError {
  error: Partial<ServiceError> & { code: status; details: string };
  /** True when the error is a bug or an unknown failure worth logging loudly. */
  unexpected: boolean;
}

export function toServiceError(e: unknown): MappedError {
  if (isDomainError(e)) {
    return { error: serviceError(codeOfKind[e.kind], e.message), unexpected: false };
  }
  if (isConfigError(e))
    return { error: serviceError(status.FAILED_PRECONDITION, e.message), unexpected: false };
  if (isGrpcError(e)) return { error: serviceError(e.code, e.details || e.message), unexpected: false };
  return { error: serviceError(status.INTERNAL, `internal error: ${errorMessage(e)}`), unexpected: true };
}

function serviceError(code: status, details: string): MappedError["error"] {
  return { code, details, message: details, metadata: new Metadata(), name: "ServiceError" };
}

/** An error that already carries a gRPC status, e.g. from a client call to a peer. */
export function isGrpcError(e: unknown): e is ServiceError {
  return (
    e instanceof Error &&
    typeof (e as Partial<ServiceError>).code === "number" &&
    "metadata" in e &&
    typeof (e as Partial<ServiceError>).details === "string"
  );
}
