import type { cacheV1 } from "@prescient/contracts";
import { unary } from "@prescient/kit";
import type { CacheCore } from "../core/cache-core.js";

export const cacheServiceName = "prescient.cache.v1.CacheService";

/**
 * The gRPC shell of the cache: each RPC hands its decoded request to the
 * core. kit's `unary` maps thrown domain errors to status codes (in one
 * place) and records the RPC metrics.
 */
export function cacheServiceImplementation(core: CacheCore): cacheV1.CacheServiceServer {
  const name = cacheServiceName;
  return {
    lookup: unary(name, "Lookup", (request: cacheV1.LookupRequest) => core.lookup(request)),
    lookupMany: unary(name, "LookupMany", (request: cacheV1.LookupManyRequest) => core.lookupMany(request)),
    put: unary(name, "Put", (request: cacheV1.PutRequest) => core.put(request)),
    putMany: unary(name, "PutMany", (request: cacheV1.PutManyRequest) => core.putMany(request)),
    invalidate: unary(name, "Invalidate", (request: cacheV1.InvalidateRequest) => core.invalidate(request)),
    stats: unary(name, "Stats", (request: cacheV1.StatsRequest) => core.stats(request)),
    takeRefreshDue: unary(name, "TakeRefreshDue", async (request: cacheV1.TakeRefreshDueRequest) =>
      core.takeRefreshDue(request),
    ),
  };
}
