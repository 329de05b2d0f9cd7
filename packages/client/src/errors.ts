import { errorMessage, isDomainError, UnavailableError } from "@prescient/core";
import { domainErrorOfStatus, isGrpcError } from "@prescient/kit/wire";

/**
 * The client's errors are the domain errors the services throw, so a backend
 * tells them apart with the same guards: isInvalidArgument, isNotFound,
 * isUnavailable, isDeadlineExceeded, isResourceExhausted, ...
 */
export {
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  DomainError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  isAlreadyExists,
  isCancelled,
  isDeadlineExceeded,
  isDomainError,
  isFailedPrecondition,
  isInternal,
  isInvalidArgument,
  isNotFound,
  isPermissionDenied,
  isResourceExhausted,
  isUnauthenticated,
  isUnavailable,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "@prescient/core";

/** Any failure of a call, as a domain error; the gRPC error stays as its cause. */
export function clientError(e: unknown, method: string): Error {
  if (isGrpcError(e)) {
    const mapped = domainErrorOfStatus(e, `${method}: `);
    (mapped as Error & { cause?: unknown }).cause = e;
    return mapped;
  }
  if (isDomainError(e)) return e;
  return new UnavailableError(`${method}: ${errorMessage(e)}`);
}
