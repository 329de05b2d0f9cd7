import { errorMessage, UnavailableError } from "@prescient/core";

/**
 * Errors of a script's own Lua are bugs and pass through as they are; every
 * other failure (connection refused or lost, OOM, cluster down, a replica
 * that is read-only) means the store is unavailable.
 */
export function storeError(operation: string, e: unknown): Error {
  const message = errorMessage(e);
  if (/user_script|Error running script/.test(message)) return e instanceof Error ? e : new Error(message);
  return new UnavailableError(`task queue store (redis) is unavailable during ${operation}: ${message}`);
}
