import type { cacheV1, commonV1 } from "@prescient/contracts";
import { outcomeOfLookup } from "@prescient/kit";
import { annotateActiveSpan, domainAttribute as attr, markActiveSpanError } from "@prescient/tracing";

/**
 * Domain attributes on the cache's server spans: tenant, task type, lookup
 * outcome, and what the request did. Never a key's entity, a value or
 * features. A degraded answer (the store failed and the lookup fell through
 * to a miss) marks the span ERROR: the caller got an answer, but an operator
 * following the trace must see that the store did not.
 */
export function annotateLookup(key: commonV1.Key | undefined, response: cacheV1.LookupResponse): void {
  annotateActiveSpan({
    [attr.tenant]: key?.tenant,
    [attr.taskType]: key?.taskType,
    [attr.lookupOutcome]: response.degraded ? "degraded" : outcomeOfLookup(response),
    "prescient.lookup.computed": response.computed || undefined,
    "prescient.lookup.refresh_due": response.refreshDue || undefined,
  });
  if (response.degraded) markActiveSpanError("the cache store failed; answered as a miss");
}

/** LookupMany: the batch's size and how many keys came out each way. */
export function annotateLookupMany(
  request: cacheV1.LookupManyRequest,
  response: cacheV1.LookupManyResponse,
): void {
  let hit = 0;
  let stale = 0;
  let degraded = 0;
  for (const r of response.results) {
    if (r.degraded) degraded++;
    else if (r.hit && r.stale) stale++;
    else if (r.hit) hit++;
  }
  const first = request.keys[0];
  const compact = request.keys.length === 0;
  const oneTenant = request.keys.every((k) => k.tenant === first?.tenant);
  annotateActiveSpan({
    [attr.batchSize]: compact ? request.entityIds.length : request.keys.length,
    [attr.tenant]: compact ? request.tenant : oneTenant ? first?.tenant : undefined,
    "prescient.lookup.hits": hit,
    "prescient.lookup.stale": stale,
    "prescient.lookup.misses": response.results.length - hit - stale - degraded,
    "prescient.lookup.peek": request.peek || undefined,
  });
  if (degraded > 0) markActiveSpanError(`the cache store failed for ${degraded} keys; answered as misses`);
}

/** Put and PutMany: how many entries, and the task type when there is one. */
export function annotatePut(entries: readonly cacheV1.PutEntry[]): void {
  const first = entries[0]?.key;
  annotateActiveSpan({
    [attr.batchSize]: entries.length,
    [attr.tenant]: entries.every((e) => e.key?.tenant === first?.tenant) ? first?.tenant : undefined,
    [attr.taskType]: entries.every((e) => e.key?.taskType === first?.taskType) ? first?.taskType : undefined,
    [attr.modelName]: entries[0]?.modelName || undefined,
    [attr.modelVersion]: entries[0]?.modelVersion || undefined,
  });
}
