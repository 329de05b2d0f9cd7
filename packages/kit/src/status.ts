import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { errorMessage, isDomainError } from "@prescient/core";
import { isConfigError } from "./config.js";
import { safeErrorDetails } from "./error-details.js";
import { isRedisUnavailable } from "./redis-errors.js";
import { codeOfKind, isGrpcError } from "./wire/status.js";

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
  if (isRedisUnavailable(e))
    return {
      error: serviceError(status.UNAVAILABLE, `store unavailable: ${errorMessage(e)}`),
      unexpected: false,
    };
  return { error: serviceError(status.INTERNAL, `internal error: ${errorMessage(e)}`), unexpected: true };
}

/**
 * Every error a client sees passes here, so this is where details are capped
 * and internal paths scrubbed, whatever message the code below wrote.
 */
function serviceError(code: status, text: string): MappedError["error"] {
  const details = safeErrorDetails(text);
  return { code, details, message: details, metadata: new Metadata(), name: "ServiceError" };
}
