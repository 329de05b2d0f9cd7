import { errorMessage, isDomainError, UnavailableError } from "@prescient/core";

/**
 * An analyzer call of a schedule job or a refresh: its failure fails the
 * run, which is retried later, so any fault reads as UNAVAILABLE; only a
 * bad argument passes through, since retrying would not fix it.
 */
export async function callAnalyzer<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (isDomainError(e) && e.kind === "invalid_argument") throw e;
    throw new UnavailableError(`analyzer unavailable: ${errorMessage(e)}`);
  }
}
