import type { TestProject } from "vitest/node";
import { type RedisServerProcess, startRedisServer } from "../../packages/kit/src/testing/redis-server.js";

/**
 * Global setup: a private redis-server on a free loopback port for the whole
 * run, unless REDIS_URL points at one already. Tests read it with
 * `inject("redisUrl")`.
 */
declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: RedisServerProcess | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (process.env.REDIS_URL) {
    project.provide("redisUrl", process.env.REDIS_URL);
    return;
  }
  redis = await startRedisServer();
  project.provide("redisUrl", redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
