import type { cacheV1 } from "@prescient/contracts";
import { unary } from "@prescient/kit";
import type { CacheCore } from "../core/cache-core.js";
import { annotateLookup, annotateLookupMany, annotatePut } from "./span-attributes.js";

export const cacheServiceName = "prescient.cache.v1.CacheService";

/**
 * The gRPC shell of the cache: each RPC hands its decoded request to the
 * core. kit's `unary` maps thrown domain errors to status codes (in one
 * place) and records the RPC metrics.
 */
export function cacheServiceImplementation(core: CacheCore): cacheV1.CacheServiceServer {
  const name = cacheServiceName;
  return {
    lookup: unary(name, "Lookup", async (request: cacheV1.LookupRequest) => {
      const response = await core.lookup(request);
      annotateLookup(request.key, response);
      return response;
    }),
    lookupMany: unary(name, "LookupMany", async (request: cacheV1.LookupManyRequest) => {
      const response = await core.lookupMany(request);
      annotateLookupMany(request, response);
      return response;
    }),
    put: unary(name, "Put", (request: cacheV1.PutRequest) => {
      annotatePut(request.entry ? [request.entry] : []);
      return core.put(request);
    }),
    putMany: unary(name, "PutMany", (request: cacheV1.PutManyRequest) => {
      annotatePut(request.entries);
      return core.putMany(request);
    }),
    invalidate: unary(name, "Invalidate", (request: cacheV1.InvalidateRequest) => core.invalidate(request)),
    stats: unary(name, "Stats", (request: cacheV1.StatsRequest) => core.stats(request)),
    takeRefreshDue: unary(name, "TakeRefreshDue", async (request: cacheV1.TakeRefreshDueRequest) =>
      core.takeRefreshDue(request),
    ),
  };
}
