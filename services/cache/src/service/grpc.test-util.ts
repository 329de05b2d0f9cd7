export { grpcError } from "@prescient/kit/testing";

import { credentials } from "@grpc/grpc-js";
import { cacheV1 } from "@prescient/contracts";
import { callUnary, clientChannelOptions, ServiceHost } from "@prescient/kit";
import { type CacheRuntime, startCache } from "../index.js";
import type { CacheOptions } from "../options.js";

/** A cache on a loopback ServiceHost with a client to it, and a promise-returning call per RPC. */
export async function startTestCache(options: Partial<CacheOptions>) {
  const host = new ServiceHost({ address: "127.0.0.1:0", drainTimeoutMs: 2000 });
  const runtime: CacheRuntime = await startCache(host, { logger: undefined, ...options });
  await host.start();
  const client = new cacheV1.CacheServiceClient(
    host.address,
    credentials.createInsecure(),
    clientChannelOptions(),
  );
  const rpc = {
    lookup: (r: cacheV1.LookupRequest) => callUnary(client.lookup.bind(client), r, { timeoutMs: 5000 }),
    lookupMany: (r: cacheV1.LookupManyRequest) =>
      callUnary(client.lookupMany.bind(client), r, { timeoutMs: 5000 }),
    put: (r: cacheV1.PutRequest) => callUnary(client.put.bind(client), r, { timeoutMs: 5000 }),
    putMany: (r: cacheV1.PutManyRequest) => callUnary(client.putMany.bind(client), r, { timeoutMs: 5000 }),
    invalidate: (r: cacheV1.InvalidateRequest) =>
      callUnary(client.invalidate.bind(client), r, { timeoutMs: 5000 }),
    stats: (r: cacheV1.StatsRequest) => callUnary(client.stats.bind(client), r, { timeoutMs: 5000 }),
    takeRefreshDue: (r: cacheV1.TakeRefreshDueRequest) =>
      callUnary(client.takeRefreshDue.bind(client), r, { timeoutMs: 5000 }),
  };
  const stop = async (): Promise<void> => {
    client.close();
    await host.shutdown();
  };
  return { host, runtime, client, rpc, stop };
}
