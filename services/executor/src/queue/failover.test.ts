import { randomUUID } from "node:crypto";
import { isUnavailable } from "@prescient/core";
import { connectRedis } from "@prescient/kit";
import {
  clusterKeySlot,
  clusterMasterOf,
  freePort,
  onClusterNode,
  type RedisClusterProcess,
  type RedisServerProcess,
  replicasOnline,
  startRedisCluster,
  startRedisServer,
  waitForPromotion,
} from "@prescient/kit/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DurableEnqueue } from "./options.js";
import { task } from "./queue-conformance.test-util.js";
import { RedisTaskQueue } from "./redis-task-queue.js";

/**
 * Issue 15 item 5: a Redis Cluster master is SIGKILLed while a producer
 * enqueues and a worker claims and acks, on a private cluster (killing a
 * master of the shared one would break other tests). Its replica is
 * promoted; both sides go on by themselves, retrying UNAVAILABLE as a
 * client would. Then every acknowledged enqueue must have run (or be lost,
 * counted: async replication can lose writes the master acknowledged just
 * before it died; with durableEnqueue it must not), and tasks run twice are
 * counted. The figures are printed for the closing note.
 */

const tasks = 2_000;
const batch = 50;
/** Short, so that a claim or ack lost in the failover brings its task back soon (a duplicate). */
const leaseMs = 1_500;
/** Failure detection: low enough for a short test, high enough not to fail over spuriously on a loaded machine. */
const nodeTimeoutMs = 2_000;
/** A failover run that has not finished by then reports where it stands rather than hang. */
const runDeadlineMs = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let cluster: RedisClusterProcess;
/** Nodes started to replace killed ones, stopped with the cluster. */
const extra: RedisServerProcess[] = [];
/** Every node, replacements included: the failover helpers (kit/testing) ask whichever still runs. */
const allNodes = (): RedisServerProcess[] => [...cluster.nodes, ...extra];
const slotOf = (key: string): Promise<number> => clusterKeySlot(allNodes(), key);
const masterOf = (slot: number): Promise<RedisServerProcess | undefined> => clusterMasterOf(allNodes(), slot);

// A fresh cluster per test: a failover leaves its shard with a replacement replica whose join a later
// kill would depend on, so one run's harness could decide the next run's outcome.
beforeEach(async () => {
  cluster = await startRedisCluster({ nodeTimeoutMs });
  // A master's diskless full sync starts 5 s after a replica asks, by default: a replacement replica
  // would leave durable enqueues refused 5 s longer than the failover itself takes.
  for (const node of cluster.nodes)
    await onClusterNode(node.port, (n) => n.config("SET", "repl-diskless-sync-delay", "0"));
  // cluster_state:ok comes before the replicas' first sync; WAIT needs them.
  for (const node of cluster.nodes) await replicasOnline(node, 30_000);
}, 90_000);

afterEach(async () => {
  await Promise.all(extra.map((n) => n.stop("SIGKILL")));
  extra.length = 0;
  await cluster?.stop();
});

/** A fresh cluster node; its bus port is picked free too (port + 10000 may not be), retried on a lost race. */
async function startReplacement(): Promise<RedisServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const args = ["--repl-diskless-sync-delay", "0", "--cluster-enabled", "yes"];
    args.push("--cluster-port", String(await freePort()), "--cluster-node-timeout", String(nodeTimeoutMs));
    try {
      return await startRedisServer({ args });
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

/**
 * What Kubernetes does after a pod dies: a fresh node joins and replicates
 * the promoted master, so the shard has a replica again (durableEnqueue
 * needs one).
 */
async function addReplica(master: RedisServerProcess): Promise<void> {
  const node = await startReplacement();
  extra.push(node);
  const masterId = await onClusterNode(master.port, async (n) => String(await n.call("CLUSTER", "MYID")));
  await onClusterNode(node.port, async (n) => {
    await n.call("CLUSTER", "MEET", "127.0.0.1", String(master.port), String(master.port + 10_000));
    for (const end = Date.now() + 20_000; ; await sleep(100)) {
      // REPLICATE needs the master known to this node, which gossip takes a moment to tell.
      const known = String(await n.call("CLUSTER", "NODES")).includes(masterId);
      if (
        known &&
        (await n.call("CLUSTER", "REPLICATE", masterId).then(
          () => true,
          () => false,
        ))
      )
        break;
      if (Date.now() > end) throw new Error("the new node did not join the cluster");
    }
  });
  await replicasOnline(master, 30_000, 1);
}

/**
 * A queue prefix whose slot's master has a replica online. An earlier run in
 * this file killed a master and joined a replacement replica to the promoted
 * one; should that join not have held, killing that shard's master again
 * could not fail over, and the test would measure the harness, not the queue.
 */
async function prefixOnReplicatedMaster(): Promise<{ keyPrefix: string; slot: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const keyPrefix = `failover-${randomUUID().slice(0, 8)}`;
    const slot = await slotOf(`{${keyPrefix}}:types`);
    const master = await masterOf(slot);
    if (master === undefined) continue;
    const online = await replicasOnline(master, 5_000, 1).then(
      () => true,
      () => false,
    );
    if (online) return { keyPrefix, slot };
  }
  throw new Error("no master with an online replica to fail over");
}

/** Calls f until it stops failing UNAVAILABLE, as a client of the executor would (for ms at most). */
async function retrying<T>(f: () => Promise<T>, ms = 30_000): Promise<T> {
  for (const end = Date.now() + ms; ; await sleep(50)) {
    try {
      return await f();
    } catch (e) {
      if (!isUnavailable(e) || Date.now() > end) throw e;
    }
  }
}

interface Outcome {
  acked: number;
  lost: number;
  duplicates: number;
  promotionMs: number;
  recoveryMs: number;
}

async function failover(durableEnqueue: DurableEnqueue | undefined): Promise<Outcome> {
  const { keyPrefix, slot } = await prefixOnReplicatedMaster();
  // Clients as the executor opens them, with a timeout so that nothing waits on a dead node for ever.
  const producerClient = connectRedis(cluster.url, { commandTimeoutMs: 2_000 });
  const workerClient = connectRedis(cluster.url, { commandTimeoutMs: 2_000 });
  const options = { keyPrefix, leaseMs, durableEnqueue };
  const producer = new RedisTaskQueue(producerClient, options);
  const worker = new RedisTaskQueue(workerClient, options);
  const run = randomUUID().slice(0, 8);
  const acked = new Set<string>();
  const processed = new Map<string, number>();
  let killedAt = 0;
  let recoveredAt = 0;
  let promotedAt = 0;
  let producing = true;
  /** Where the run stands, for the message when it fails. */
  let phase = "producing";
  let failure: unknown;
  const check = (): void => {
    if (failure !== undefined) throw failure;
    if (Date.now() - begun > runDeadlineMs)
      throw new Error(
        `failover run stuck in phase ${phase}: ${acked.size} acknowledged, ${processed.size} processed`,
      );
  };
  const begun = Date.now();

  const kill = async (): Promise<void> => {
    const master = (await masterOf(slot)) as RedisServerProcess;
    await master.stop("SIGKILL");
    killedAt = Date.now();
    phase = "promotion";
    const promoted = await waitForPromotion(allNodes(), slot, master);
    promotedAt = Date.now();
    phase = "adding a replica";
    await addReplica(promoted);
    phase = "replica online";
  };
  let killing: Promise<void> | undefined;

  const produce = async (): Promise<void> => {
    for (let b = 0; b < tasks / batch; b++) {
      if (b === tasks / batch / 2)
        killing = kill().catch((e: unknown) => {
          failure = e;
        });
      const chunk = Array.from({ length: batch }, (_, i) => task(`${run}-${b * batch + i}`));
      for (;;) {
        const startedAt = Date.now();
        try {
          await producer.enqueueMany(chunk);
          if (killedAt > 0 && recoveredAt === 0 && startedAt >= killedAt) recoveredAt = Date.now();
          break;
        } catch (e) {
          if (!isUnavailable(e)) throw e;
          check();
          await sleep(50);
        }
      }
      for (const t of chunk) acked.add(t.key);
      // Paced, so that enqueues keep coming through the failover.
      await sleep(5);
    }
    producing = false;
    phase = "draining";
  };

  const work = async (): Promise<void> => {
    let idleSince = 0;
    for (;;) {
      check();
      let claimed: Awaited<ReturnType<RedisTaskQueue["claim"]>> = [];
      try {
        claimed = await worker.claim(batch, { workerId: "w", leaseMs });
      } catch (e) {
        if (!isUnavailable(e)) throw e;
      }
      for (const t of claimed) processed.set(t.key, (processed.get(t.key) ?? 0) + 1);
      if (claimed.length > 0) {
        idleSince = 0;
        // A lost ack leaves the task to come back when its lease ends: a duplicate, counted.
        await retrying(() => worker.ack(claimed.map((t) => t.id)));
        continue;
      }
      const done = !producing && killing !== undefined && [...acked].every((k) => processed.has(k));
      if (done) return;
      if (!producing) {
        idleSince ||= Date.now();
        // Past a lease, anything still missing is not coming back: lost.
        if (Date.now() - idleSince > 3 * leaseMs) return;
      }
      await sleep(20);
    }
  };

  await Promise.all([produce(), work()]);
  await killing;
  check();
  const stats = await retrying(() => worker.stats());
  producerClient.disconnect();
  workerClient.disconnect();
  expect(acked.size).toBe(tasks);
  // Nothing is left in the queue: every task that survived was run.
  expect(stats.size).toBe(0);
  let duplicates = 0;
  for (const n of processed.values()) duplicates += n - 1;
  return {
    acked: acked.size,
    lost: [...acked].filter((k) => !processed.has(k)).length,
    duplicates,
    promotionMs: promotedAt - killedAt,
    recoveryMs: recoveredAt - killedAt,
  };
}

interface Cost {
  perS: number;
  p50: number;
  p99: number;
}

/** Enqueue latency and throughput, single tasks from 8 concurrent callers. */
async function enqueueCost(queue: RedisTaskQueue, label: string, n: number): Promise<Cost> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        await queue.enqueue(task(`${label}-${i}`));
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.floor(q * (latencies.length - 1))] as number;
  return { perS: n / seconds, p50: at(0.5), p99: at(0.99) };
}

describe("the Redis queue through a master failover (private cluster)", () => {
  it("WAIT costs: enqueue with and without durableEnqueue on the healthy cluster", async () => {
    const client = connectRedis(cluster.url);
    const keyPrefix = `wait-cost-${randomUUID().slice(0, 8)}`;
    // One prefix for both, so both write to the same master.
    const plain = new RedisTaskQueue(client, { keyPrefix });
    const durable = new RedisTaskQueue(client, {
      keyPrefix,
      durableEnqueue: { replicas: 1, timeoutMs: 1_000 },
    });
    await enqueueCost(plain, "warm", 200);
    // Alternated, so that load on the shared machine falls on both alike.
    const rounds: Record<"plain" | "durable", Cost[]> = { plain: [], durable: [] };
    for (let r = 0; r < 3; r++) {
      rounds.plain.push(await enqueueCost(plain, `p${r}`, 1_000));
      rounds.durable.push(await enqueueCost(durable, `d${r}`, 1_000));
    }
    for (const [name, rs] of Object.entries(rounds))
      console.log(
        `failover: enqueue ${name}: ${rs.map((r) => r.perS.toFixed(0)).join(", ")} tasks/s, ` +
          `p50 ${rs.map((r) => r.p50.toFixed(2)).join(", ")} ms, p99 ${rs.map((r) => r.p99.toFixed(2)).join(", ")} ms ` +
          `(8 callers, single-task enqueue, rounds alternated)`,
      );
    // The durable queue's tasks are really on the replica: WAIT answered 1.
    const stats = await durable.stats();
    expect(stats.size).toBe(200 + 6 * 1_000);
    client.disconnect();
  }, 60_000);

  it("without durableEnqueue: services reconnect, acknowledged enqueues run (lost ones counted)", async () => {
    const o = await failover(undefined);
    console.log(`failover: async replication: ${JSON.stringify(o)}`);
    expect(o.recoveryMs).toBeGreaterThan(0);
    // Loss is possible here (async replication) and measured, not asserted: on loopback it is rare.
    // It is bounded by what the master acknowledged within one replication lag of its death.
    expect(o.lost).toBeLessThanOrEqual(batch * 4);
  }, 90_000);

  it("with durableEnqueue (1 replica): no acknowledged enqueue is lost", async () => {
    const o = await failover({ replicas: 1, timeoutMs: 500 });
    console.log(`failover: durableEnqueue 1 replica: ${JSON.stringify(o)}`);
    expect(o.recoveryMs).toBeGreaterThan(0);
    expect(o.lost).toBe(0);
  }, 90_000);
});
