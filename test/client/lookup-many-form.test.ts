import { credentials } from "@grpc/grpc-js";
import { startCache } from "@prescient/cache";
import { createClient, tensorValue } from "@prescient/client";
import { cacheV1 } from "@prescient/contracts";
import { defaultTaskTypesPath, loadTaskTypes } from "@prescient/core";
import { ServiceHost, unary } from "@prescient/kit";
import { afterEach, describe, expect, it } from "vitest";

/**
 * @prescient/client sends a LookupMany of one tenant and task type in the
 * compact form (tenant, task_type, entity_ids), and falls back to keys
 * against a cache from before that form. Both caches are real: the current
 * one as `startCache` serves it, and an older one played by the same cache
 * behind a proxy that drops the fields an older decoder would not know.
 */
const hosts: ServiceHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown()));
});

async function cacheHost(): Promise<ServiceHost> {
  const host = new ServiceHost({ address: "127.0.0.1:0" });
  hosts.push(host);
  await Promise.all([
    startCache(host, { taskTypes: loadTaskTypes(defaultTaskTypesPath), store: "memory" }),
    host.start(),
  ]);
  return host;
}

/** A cache whose LookupMany knows only `keys`, as one from before the compact form; it records what it got. */
async function olderCache(current: ServiceHost, seen: cacheV1.LookupManyRequest[]): Promise<ServiceHost> {
  const upstream = new cacheV1.CacheServiceClient(current.address, credentials.createInsecure());
  const host = new ServiceHost({ address: "127.0.0.1:0" });
  hosts.push(host);
  const impl: Record<string, unknown> = {};
  for (const name of Object.keys(cacheV1.CacheServiceService))
    impl[name] = unary("cache", name, async () => ({}));
  impl.lookupMany = unary("cache", "LookupMany", (request: cacheV1.LookupManyRequest) => {
    seen.push(request);
    const older = { ...request, tenant: undefined, taskType: undefined, entityIds: [] };
    return new Promise((resolve, reject) =>
      upstream.lookupMany(older, (e, r) => (e ? reject(e) : resolve(r))),
    );
  });
  host.addService("prescient.cache.v1.CacheService", cacheV1.CacheServiceService, impl as never);
  await host.start();
  return host;
}

const put = (address: string) => {
  const client = createClient({ address });
  return client
    .putMany(
      ["a", "c"].map((id, i) => ({
        key: `acme/ctr_prediction/${id}`,
        value: tensorValue({ probability: { datatype: "FP32", shape: [1, 1], data: [0.25 * (i + 1)] } }),
      })),
    )
    .finally(() => client.close());
};

describe("LookupMany's compact form through @prescient/client", () => {
  it("answers a batch of one tenant and type in order, and a mixed batch as before", async () => {
    const host = await cacheHost();
    await put(host.address);
    const client = createClient({ address: host.address });
    const ids = ["a", "b", "c"].map((id) => `acme/ctr_prediction/${id}`);
    expect((await client.lookupMany(ids)).map((r) => [r.key, r.outcome])).toEqual([
      ["acme/ctr_prediction/a", "hit"],
      ["acme/ctr_prediction/b", "miss"],
      ["acme/ctr_prediction/c", "hit"],
    ]);
    const values = await client.lookupValues(ids);
    expect(values.map((v) => (v?.kind === "tensors" ? v.tensors.probability?.data : v))).toEqual([
      [0.25],
      undefined,
      [0.5],
    ]);
    const mixed = await client.lookupMany([ids[0] as string, "acme/dashboard_data/a"]);
    expect(mixed.map((r) => r.outcome)).toEqual(["hit", "miss"]);
    client.close();
  });

  it("falls back to keys against a cache from before the form, once, and keeps to keys after", async () => {
    const current = await cacheHost();
    await put(current.address);
    const seen: cacheV1.LookupManyRequest[] = [];
    const older = await olderCache(current, seen);
    const client = createClient({ address: older.address });
    const ids = ["a", "b", "c"].map((id) => `acme/ctr_prediction/${id}`);
    expect((await client.lookupValues(ids)).map((v) => v !== undefined)).toEqual([true, false, true]);
    expect((await client.lookupMany(ids)).map((r) => r.outcome)).toEqual(["hit", "miss", "hit"]);
    expect(seen.map((r) => [r.keys.length, r.entityIds.length])).toEqual([
      [0, 3],
      [3, 0],
      [3, 0],
    ]);
    client.close();
  });
});
