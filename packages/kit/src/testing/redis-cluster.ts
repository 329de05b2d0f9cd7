import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { type RedisServerProcess, startRedisServer } from "./redis-server.js";

const run = promisify(execFile);

/** A private Redis Cluster on loopback, as CI runs one: masters, each with its replicas. */
export interface RedisClusterProcess {
  /** REDIS_URL for it: `redis+cluster://` with every master as a seed. */
  url: string;
  nodes: RedisServerProcess[];
  /** The node now serving `slot` as master. */
  masterOf(slot: number): Promise<RedisServerProcess>;
  stop(): Promise<void>;
}

/**
 * Starts `masters × (1 + replicasPerMaster)` redis-server processes with
 * `--cluster-enabled yes`, joins them with `redis-cli --cluster create`, and
 * waits until every node says `cluster_state:ok`. Ports are picked so that
 * each node's cluster bus (port + 10000) is free too.
 */
export async function startRedisCluster(
  options: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {},
): Promise<RedisClusterProcess> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  const ports = await clusterPorts(masters * (1 + replicas));
  const nodes: RedisServerProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  };
  try {
    for (const port of ports)
      nodes.push(
        await startRedisServer({
          port,
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            `nodes-${port}.conf`,
            "--cluster-node-timeout",
            String(options.nodeTimeoutMs ?? 2000),
          ],
        }),
      );
    await run(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        String(replicas),
        "--cluster-yes",
      ],
      { timeout: 30_000 },
    );
    await waitForState(ports, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url: `redis+cluster://${ports
      .slice(0, masters)
      .map((p) => `127.0.0.1:${p}`)
      .join(",")}`,
    nodes,
    async masterOf(slot) {
      const probe = new Redis(nodes[0]?.port ?? 0, "127.0.0.1", { lazyConnect: true });
      try {
        const slots = (await probe.call("CLUSTER", "SLOTS")) as [number, number, [string, number]][];
        const owner = slots.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
        const node = nodes.find((n) => n.port === owner);
        if (node === undefined) throw new Error(`no master serves slot ${slot}`);
        return node;
      } finally {
        probe.disconnect();
      }
    },
    stop,
  };
}

async function waitForState(ports: readonly number[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (const port of ports) {
    const client = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      for (;;) {
        const info = String(await client.call("CLUSTER", "INFO"));
        if (info.includes("cluster_state:ok")) break;
        if (Date.now() > end) throw new Error(`cluster node ${port} is not ok: ${info.slice(0, 200)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      client.disconnect();
    }
  }
}

/** `n` ports in 20000-29999 (so port + 10000 stays a valid port), each free along with its bus port. */
async function clusterPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < n && tries < 500; tries++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (ports.includes(port) || ports.includes(port + 10000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10000))) ports.push(port);
  }
  if (ports.length < n) throw new Error("no free ports for a Redis Cluster");
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/*
 * Failover helpers: a test that SIGKILLs a master of a private cluster finds
 * the master serving a slot, makes sure it has a replica to promote, and
 * waits for the promotion. They ask whichever node still runs (the first
 * node may be the one killed), so they take every node the test knows of,
 * replacements it started included.
 */

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether the node's redis-server process is still running (not stopped or killed). */
export function isRunning(node: RedisServerProcess): boolean {
  return node.process.exitCode === null && node.process.signalCode === null;
}

function running(nodes: readonly RedisServerProcess[]): RedisServerProcess {
  const node = nodes.find(isRunning);
  if (node === undefined) throw new Error("no cluster node is running");
  return node;
}

/** A plain connection to one node, for CLUSTER commands that must not be routed. */
export async function onClusterNode<T>(port: number, f: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    return await f(node);
  } finally {
    node.disconnect();
  }
}

/** The cluster slot of `key`, asked of a running node. */
export async function clusterKeySlot(nodes: readonly RedisServerProcess[], key: string): Promise<number> {
  return Number(await onClusterNode(running(nodes).port, (n) => n.call("CLUSTER", "KEYSLOT", key)));
}

/** CLUSTER NODES as a running node sees it, for the message of a failed failover test. */
export async function clusterNodesText(nodes: readonly RedisServerProcess[]): Promise<string> {
  return onClusterNode(running(nodes).port, async (n) => String(await n.call("CLUSTER", "NODES")));
}

/** The node serving `slot` as master, asked of a running node; undefined when none of `nodes` does. */
export async function clusterMasterOf(
  nodes: readonly RedisServerProcess[],
  slot: number,
): Promise<RedisServerProcess | undefined> {
  const slots = (await onClusterNode(running(nodes).port, (n) => n.call("CLUSTER", "SLOTS"))) as [
    number,
    number,
    [string, number],
  ][];
  const port = slots.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
  return nodes.find((n) => n.port === port);
}

/** Waits until every replica a master lists is online, and at least `atLeast` are (none listed: a replica, nothing to wait for). */
export async function replicasOnline(node: RedisServerProcess, ms: number, atLeast = 0): Promise<void> {
  await onClusterNode(node.port, async (n) => {
    for (const end = Date.now() + ms; ; await pause(100)) {
      const info = await n.info("replication");
      const listed = info.match(/^slave\d+:.*$/gm) ?? [];
      if (listed.length >= atLeast && listed.every((l) => l.includes("state=online"))) return;
      if (Date.now() > end) throw new Error(`replicas of ${node.port} not online: ${listed.join(" ")}`);
    }
  });
}

/**
 * Waits until a running node says the cluster is ok and a node other than
 * `dead` serves `slot`; answers that node. Throws, with CLUSTER NODES, when
 * that takes longer than `ms`.
 */
export async function waitForPromotion(
  nodes: readonly RedisServerProcess[],
  slot: number,
  dead: RedisServerProcess,
  ms = 30_000,
): Promise<RedisServerProcess> {
  for (const end = Date.now() + ms; Date.now() < end; await pause(50)) {
    const ok = await onClusterNode(running(nodes).port, async (n) => String(await n.call("CLUSTER", "INFO")))
      .then((info) => info.includes("cluster_state:ok"))
      .catch(() => false);
    if (!ok) continue;
    const master = await clusterMasterOf(nodes, slot).catch(() => undefined);
    if (master !== undefined && master !== dead) return master;
  }
  const text = await clusterNodesText(nodes).catch((e: unknown) => `(CLUSTER NODES failed: ${String(e)})`);
  throw new Error(`slot ${slot} was not failed over within ${ms} ms (killed ${dead.port}):\n${text}`);
}
