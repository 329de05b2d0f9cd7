import { formatKey } from "@prescient/core";
import {
  clusterKeySlot,
  onClusterNode,
  type RedisClusterProcess,
  replicasOnline,
  startRedisCluster,
  waitForPromotion,
} from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisCacheStore } from "./redis-store.js";
import { write } from "./store-conformance.test-util.js";

/**
 * The near cache on a private Redis Cluster, where this file may kill
 * connections and a master: whatever happens to a node, a replica's near
 * cache comes back, and never answers a value older than what another
 * replica wrote after the event.
 */
let cluster: RedisClusterProcess;
const stores: RedisCacheStore[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ nodeTimeoutMs: 1000 });
  // A replica that never synced is not promoted: wait for every one (as the executor's failover test does).
  for (const node of cluster.nodes)
    await onClusterNode(node.port, (n) => n.config("SET", "repl-diskless-sync-delay", "0"));
  for (const node of cluster.nodes) await replicasOnline(node, 30_000);
}, 90_000);
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await cluster.stop();
});

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function open(near: boolean): Promise<RedisCacheStore> {
  const store = new RedisCacheStore({
    url: cluster.url,
    keyPrefix: "near-failover:",
    sweepIntervalMs: 0,
    ...(near ? {} : { nearCacheMaxEntries: 0 }),
  });
  stores.push(store);
  await store.ready();
  if (near) await until(() => store.near?.armed === true, 10_000, "near cache armed");
  return store;
}

const key = formatKey({ tenant: "acme", taskType: "ctr_prediction", entityId: "x" });
const valueIn = async (store: RedisCacheStore): Promise<unknown> =>
  (await store.get(key))?.value?.tensors?.tensors[0]?.data[0];
/** Writes through `store`, retried while the cluster moves. */
const writeValue = (store: RedisCacheStore, value: number): Promise<void> =>
  until(
    () => store.putMany([write("acme", "ctr_prediction", "x", { value })]).then(() => true),
    15_000,
    `write ${value}`,
  );

describe("the near cache on a Redis Cluster, through faults", () => {
  it("re-arms after its subscriber connections are killed, and misses nothing written meanwhile", async () => {
    const a = await open(true);
    const b = await open(false);
    await writeValue(b, 1);
    expect(await valueIn(a)).toBe(1);
    expect(await valueIn(a)).toBe(1);
    for (const node of cluster.nodes)
      await onClusterNode(node.port, (n) => n.call("CLIENT", "KILL", "TYPE", "pubsub"));
    await until(() => a.near?.armed === false, 3000, "near cache disarmed");
    await writeValue(b, 2);
    await until(() => a.near?.armed === true, 10_000, "near cache armed again");
    expect(await valueIn(a)).toBe(2);
    await writeValue(b, 3);
    await until(async () => (await valueIn(a)) === 3, 3000, "invalidation after re-arming");
  }, 40_000);

  it("through a master's failover: serves what was written after it, and tracks again", async () => {
    const a = await open(true);
    const b = await open(false);
    await writeValue(b, 10);
    expect(await valueIn(a)).toBe(10);
    const slot = await clusterKeySlot(cluster.nodes, a.layout.entry(key));
    const master = await cluster.masterOf(slot);
    await master.stop("SIGKILL");
    await waitForPromotion(cluster.nodes, slot, master, 30_000);
    await writeValue(b, 11);
    // Never 10 once 11 is acknowledged and its invalidation had time to arrive; reads may fail while the cluster settles.
    await until(async () => (await valueIn(a)) === 11, 10_000, "the value written after the failover");
    await until(() => a.near?.armed === true, 15_000, "near cache armed after the failover");
    // Held again: so the next value must come by an invalidation from the promoted master, not a round trip.
    await until(
      async () => (await valueIn(a)) === 11 && a.near?.get(a.layout.entry(key)) !== undefined,
      5000,
      "the value held by the near cache again",
    );
    await writeValue(b, 12);
    await until(async () => (await valueIn(a)) === 12, 3000, "invalidation from the promoted master");
  }, 90_000);
});
