import { type Clock, errorMessage, isDomainError, UnavailableError } from "@prescient/core";
import type { Logger } from "pino";
import type { CacheStore } from "../store/cache-store.js";
import type { CacheMetrics } from "./cache-metrics.js";
import { RateLimitedLog } from "./rate-limited-log.js";

/**
 * Accounting for the store's failures, wherever they happen (lookups
 * answered degraded, failed writes, counts): one counter, one metric and one
 * rate-limited log line, and the error a caller should see.
 */
export class StoreFailures {
  readonly #log: RateLimitedLog;
  #count = 0;

  constructor(
    private readonly store: CacheStore,
    private readonly metrics: CacheMetrics | undefined,
    logger: Logger | undefined,
    clock: Clock,
  ) {
    this.#log = new RateLimitedLog(logger, clock);
  }

  /** Store failures since start. */
  get count(): number {
    return this.#count;
  }

  /**
   * Counts and logs (rate-limited) a store failure, and answers the error a
   * caller should see: a domain error as it is, anything else as UNAVAILABLE.
   */
  record(operation: string, err: unknown): Error {
    this.#count++;
    this.metrics?.storeErrors.labels(operation).inc();
    this.#log.warn(err, "cache store failed", { operation, store: this.store.name });
    if (isDomainError(err)) return err;
    return new UnavailableError(`cache store (${this.store.name}) is unavailable: ${errorMessage(err)}`);
  }
}
