import type { cacheV1, commonV1 } from "@prescient/contracts";
import { classifyFreshness } from "@prescient/core";
import type { ResolvedKey } from "@prescient/kit";
import type { CachedResult } from "../store/cache-store.js";
import { EncodedResult, EncodedValue, expiresAtMsOf } from "../store/encoded-result.js";

/**
 * A served answer. Hits and misses set every field, in one order, so every
 * answer the lookup path builds has the same object shape.
 */
export function hit(
  key: string,
  result: CachedResult,
  stale: boolean,
  refreshDue: boolean,
): cacheV1.LookupResponse {
  return { key, hit: true, result, stale, refreshDue, degraded: false, computed: false, taskId: "" };
}

export function miss(key: string, degraded: boolean): cacheV1.LookupResponse {
  return {
    key,
    hit: false,
    result: undefined,
    stale: false,
    refreshDue: false,
    degraded,
    computed: false,
    taskId: "",
  };
}

/** A peek's answer: the stored result if fresh or stale, nothing else happens. */
export function peekAnswer(
  k: ResolvedKey,
  result: CachedResult | undefined,
  now: number,
  degraded: boolean,
): cacheV1.LookupResponse {
  if (result === undefined) return miss(k.key, degraded);
  const freshness = classifyFreshness(now, expiresAtMsOf(result), k.type.staleGraceMs);
  return freshness === "expired" ? miss(k.key, degraded) : hit(k.key, result, freshness === "stale", false);
}

/** An answer's expiry for an expiries-only LookupMany: its result's, or 0 without one. */
export function answerExpiry(answer: cacheV1.LookupResponse): bigint {
  return answer.result === undefined ? 0n : wireExpiry(expiresAtMsOf(answer.result));
}

/**
 * An expiry as expires_at_ms carries it: 0 (none) for one at or before the
 * epoch, which no stored result has, so that the field is never negative
 * (the pass-through encoder writes it as an unsigned varint).
 */
export function wireExpiry(expiresAtMs: number): bigint {
  return expiresAtMs > 0 ? BigInt(expiresAtMs) : 0n;
}

/** What a values-only LookupMany answers for a key without a result: a Value with no kind set. */
export const noValue: commonV1.Value = Object.freeze({ contentType: "" });

/**
 * An answer's value for a values-only LookupMany: the result's (a hit, or
 * one computed for the call), else noValue. Stored bytes stay bytes.
 */
export function answerValue(answer: cacheV1.LookupResponse): commonV1.Value {
  const result = answer.result;
  if (result === undefined) return noValue;
  if (result instanceof EncodedResult)
    return result.encodedValue === undefined
      ? (result.value ?? noValue)
      : new EncodedValue(result.encodedValue);
  return result.value ?? noValue;
}
