import type { commonV1 } from "@prescient/contracts";
import { type KeyParts, UnavailableError } from "@prescient/core";
import type { CachedResult } from "../store/cache-store.js";

/** The key of a miss: validated parts plus the canonical key string. */
export interface MissKey extends KeyParts {
  key: string;
}

/** Features the caller sent with its lookup; empty when it sent none. */
export type MissFeatures = Readonly<Record<string, commonV1.FeatureValue>>;

/**
 * The port through which the cache handles misses (ON_MISS_ENQUEUE and
 * ON_MISS_COMPUTE). The executor implements it; the cache coalesces
 * concurrent misses of one key into one call, so an implementation need not.
 */
export interface MissHandler {
  /** Enqueues a task computing the key; answers its id. */
  enqueue(key: MissKey, features: MissFeatures): Promise<{ taskId: string }>;
  /**
   * Computes the key now. computed_at and expires_at may be left unset: the
   * cache fills them from its clock and the type's TTL before storing.
   */
  compute(key: MissKey, features: MissFeatures): Promise<CachedResult>;
}

const noExecutor = "no executor is configured: ENQUEUE and COMPUTE need the executor service";

/** What the cache uses until an executor is wired in: both modes answer UNAVAILABLE. */
export const unconfiguredMissHandler: MissHandler = {
  enqueue: () => Promise.reject(new UnavailableError(noExecutor)),
  compute: () => Promise.reject(new UnavailableError(noExecutor)),
};
