import { type ServiceError, status } from "@grpc/grpc-js";
import {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  type DomainError,
  type DomainErrorKind,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "@prescient/core";

/** The one table between domain error kinds and gRPC status codes, both ways. */
export const codeOfKind: Readonly<Record<DomainErrorKind, status>> = {
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
  internal: status.INTERNAL,
};

const errorOfCode: Partial<Record<status, new (message: string) => DomainError>> = {
  [status.INVALID_ARGUMENT]: InvalidArgumentError,
  [status.OUT_OF_RANGE]: InvalidArgumentError,
  [status.NOT_FOUND]: NotFoundError,
  [status.ALREADY_EXISTS]: AlreadyExistsError,
  [status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [status.FAILED_PRECONDITION]: FailedPreconditionError,
  [status.ABORTED]: FailedPreconditionError,
  [status.UNAVAILABLE]: UnavailableError,
  [status.DEADLINE_EXCEEDED]: DeadlineExceededError,
  [status.CANCELLED]: CancelledError,
  [status.PERMISSION_DENIED]: PermissionDeniedError,
  [status.UNAUTHENTICATED]: UnauthenticatedError,
};

const nameOfCode = new Map<number, string>(
  Object.entries(status)
    .filter((e): e is [string, number] => typeof e[1] === "number")
    .map(([name, code]) => [code, name]),
);

/** `UNAVAILABLE` for 14; the number itself for a code gRPC does not name. */
export function statusName(code: number): string {
  return nameOfCode.get(code) ?? String(code);
}

/**
 * The domain error a peer's status stands for, so code on the calling side
 * handles a remote failure with the same `isX` guards as a local one.
 * INTERNAL, UNKNOWN, UNIMPLEMENTED and DATA_LOSS read as InternalError.
 */
export function domainErrorOfStatus(
  e: Pick<ServiceError, "code" | "details" | "message">,
  prefix = "",
): DomainError {
  const detail = `${prefix}${e.details || e.message}`;
  const ErrorClass = errorOfCode[e.code as status] ?? InternalError;
  return new ErrorClass(detail);
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
