import { type Clock, systemClock } from "@prescient/core";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type MissHandler, unconfiguredMissHandler } from "./miss-handler.js";
import type { ObservedLookup } from "./observed-lookup.js";

export interface CacheCoreOptions {
  /** Most keys in one LookupMany; more is RESOURCE_EXHAUSTED. Default 1000. */
  maxLookupMany: number;
  /** Most entries in one PutMany; more is RESOURCE_EXHAUSTED. Default 1000. */
  maxPutMany: number;
  /** Refresh-due keys kept until TakeRefreshDue drains them; the oldest go first. Default 10,000. */
  refreshDueCapacity: number;
  /** Tenants counted apart in Stats; later ones count as "(other)". Default 10,000. */
  maxStatsTenants: number;
  /** Handles ENQUEUE and COMPUTE misses. Default: answers UNAVAILABLE (no executor). */
  missHandler: MissHandler;
  /** Default: the system clock. */
  clock: Clock;
  /** Uniform on [0, 1), for XFetch. Default Math.random. */
  random: () => number;
  /** Where lookup, put and error metrics go. Default: none. */
  registry: Registry | undefined;
  /** Store failures are logged here, rate-limited. Default: none. */
  logger: Logger | undefined;
  /**
   * Told of every answered lookup, synchronously, for the analyzer's query
   * log. It must not block or throw (the QueryReporter buffers and drops).
   * Default: none.
   */
  lookupObserver: ((lookup: ObservedLookup) => void) | undefined;
}

export const cacheCoreDefaults: Readonly<CacheCoreOptions> = {
  maxLookupMany: 1000,
  maxPutMany: 1000,
  refreshDueCapacity: 10_000,
  maxStatsTenants: 10_000,
  missHandler: unconfiguredMissHandler,
  clock: systemClock,
  random: Math.random,
  registry: undefined,
  logger: undefined,
  lookupObserver: undefined,
};
