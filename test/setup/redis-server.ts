import type { TestProject } from "vitest/node";
import { type RedisClusterProcess, startRedisCluster } from "../../packages/kit/src/testing/redis-cluster.js";
import { type RedisServerProcess, startRedisServer } from "../../packages/kit/src/testing/redis-server.js";

/**
 * Global setup: a private redis-server on a free loopback port for the whole
 * run, unless REDIS_URL points at one already, and a private Redis Cluster
 * (3 masters, 3 replicas) unless REDIS_CLUSTER_URL points at one. Tests read
 * them with `inject("redisUrl")` and `inject("redisClusterUrl")`; every
 * store's conformance suite runs on both.
 */
declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    redisClusterUrl: string;
  }
}

let redis: RedisServerProcess | undefined;
let cluster: RedisClusterProcess | undefined;

export async function setup(project: TestProject): Promise<void> {
  const [single, many] = await Promise.all([
    process.env.REDIS_URL ? undefined : startRedisServer(),
    process.env.REDIS_CLUSTER_URL ? undefined : startRedisCluster(),
  ]);
  redis = single;
  cluster = many;
  project.provide("redisUrl", process.env.REDIS_URL || (single?.url ?? ""));
  project.provide("redisClusterUrl", process.env.REDIS_CLUSTER_URL || (many?.url ?? ""));
}

export async function teardown(): Promise<void> {
  await Promise.all([redis?.stop(), cluster?.stop()]);
}
