/**
 * Domain errors. Services throw these; the service kit maps each kind to one
 * gRPC status code at its single boundary (kit/src/status.ts).
 */
export type DomainErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "resource_exhausted"
  | "failed_precondition"
  | "unavailable"
  | "deadline_exceeded"
  | "cancelled"
  | "permission_denied"
  | "unauthenticated"
  | "internal";

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
}

export class InvalidArgumentError extends DomainError {
  override readonly name = "InvalidArgumentError";
  readonly kind = "invalid_argument" as const;
}

export class NotFoundError extends DomainError {
  override readonly name = "NotFoundError";
  readonly kind = "not_found" as const;
}

export class AlreadyExistsError extends DomainError {
  override readonly name = "AlreadyExistsError";
  readonly kind = "already_exists" as const;
}

export class ResourceExhaustedError extends DomainError {
  override readonly name = "ResourceExhaustedError";
  readonly kind = "resource_exhausted" as const;
}

export class FailedPreconditionError extends DomainError {
  override readonly name = "FailedPreconditionError";
  readonly kind = "failed_precondition" as const;
}

/** A dependency (store, peer service) is down or not configured. */
export class UnavailableError extends DomainError {
  override readonly name = "UnavailableError";
  readonly kind = "unavailable" as const;
}

export class DeadlineExceededError extends DomainError {
  override readonly name = "DeadlineExceededError";
  readonly kind = "deadline_exceeded" as const;
}

export class CancelledError extends DomainError {
  override readonly name = "CancelledError";
  readonly kind = "cancelled" as const;
}

export class PermissionDeniedError extends DomainError {
  override readonly name = "PermissionDeniedError";
  readonly kind = "permission_denied" as const;
}

export class UnauthenticatedError extends DomainError {
  override readonly name = "UnauthenticatedError";
  readonly kind = "unauthenticated" as const;
}

/**
 * A failure the server could not explain: a bug, or a status no other kind
 * covers. Services never throw it for bad input; clients get it for INTERNAL,
 * UNKNOWN and the rarer codes.
 */
export class InternalError extends DomainError {
  override readonly name = "InternalError";
  readonly kind = "internal" as const;
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
export const isInvalidArgument = (e: unknown): e is InvalidArgumentError => e instanceof InvalidArgumentError;
export const isNotFound = (e: unknown): e is NotFoundError => e instanceof NotFoundError;
export const isAlreadyExists = (e: unknown): e is AlreadyExistsError => e instanceof AlreadyExistsError;
export const isResourceExhausted = (e: unknown): e is ResourceExhaustedError =>
  e instanceof ResourceExhaustedError;
export const isFailedPrecondition = (e: unknown): e is FailedPreconditionError =>
  e instanceof FailedPreconditionError;
export const isUnavailable = (e: unknown): e is UnavailableError => e instanceof UnavailableError;
export const isDeadlineExceeded = (e: unknown): e is DeadlineExceededError =>
  e instanceof DeadlineExceededError;
export const isCancelled = (e: unknown): e is CancelledError => e instanceof CancelledError;
export const isPermissionDenied = (e: unknown): e is PermissionDeniedError =>
  e instanceof PermissionDeniedError;
export const isUnauthenticated = (e: unknown): e is UnauthenticatedError => e instanceof UnauthenticatedError;

export const isInternal = (e: unknown): e is InternalError => e instanceof InternalError;

/** The message of anything thrown, for logs and error fields. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
