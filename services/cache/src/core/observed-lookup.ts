import type { cacheV1 } from "@prescient/contracts";
import type { LookupOutcome } from "@prescient/core";
import { outcomeOfLookup, type ResolvedKey } from "@prescient/kit";
import type { CachedResult } from "../store/cache-store.js";
import type { CacheCoreOptions } from "./cache-core-options.js";

/** One answered lookup, as the demand model wants it. */
export interface ObservedLookup {
  /** ms since the epoch, on the core's clock. */
  time: number;
  key: string;
  tenant: string;
  taskType: string;
  /** Raw entity id, or `#<digest>` for input-addressed keys. */
  entityId: string;
  userId: string;
  outcome: LookupOutcome;
  /** The stored result's compute time on a hit; 0 when unknown. */
  computeMs: number;
}

/**
 * Tells the lookup observer of one answered lookup. An answer still pending
 * is a miss being enqueued or computed, so it reports as a miss without
 * waiting: the observer is told synchronously, on the lookup's own turn.
 */
export function reportLookup(
  options: Pick<CacheCoreOptions, "clock" | "lookupObserver">,
  k: ResolvedKey,
  answer: cacheV1.LookupResponse | Promise<cacheV1.LookupResponse>,
  result: CachedResult | undefined,
  userId: string,
): void {
  options.lookupObserver?.({
    time: options.clock.now(),
    key: k.key,
    tenant: k.parts.tenant,
    taskType: k.parts.taskType,
    entityId: k.parts.entityId ?? `#${k.parts.digest ?? ""}`,
    userId,
    outcome: answer instanceof Promise ? "miss" : outcomeOfLookup(answer),
    computeMs: result?.computeMs ?? 0,
  });
}
