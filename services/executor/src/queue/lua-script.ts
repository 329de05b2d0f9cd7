import { createHash } from "node:crypto";
import { errorMessage, UnavailableError } from "@prescient/core";
import type { Cluster, Redis } from "ioredis";

export type RedisClient = Redis | Cluster;

/**
 * A Lua script run with EVALSHA: one round trip, the source sent only when
 * the server does not have it cached yet (NOSCRIPT: first call, a restart, a
 * failover, another cluster node).
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(
    client: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      try {
        return await client.evalsha(this.sha, keys.length, ...keys, ...args);
      } catch (e) {
        if (!errorMessage(e).startsWith("NOSCRIPT")) throw e;
        return await client.eval(this.source, keys.length, ...keys, ...args);
      }
    } catch (e) {
      throw storeError(this.name, e);
    }
  }
}

/**
 * Errors of a script's own Lua are bugs and pass through as they are; every
 * other failure (connection refused or lost, OOM, cluster down, a replica
 * that is read-only) means the store is unavailable.
 */
export function storeError(operation: string, e: unknown): Error {
  const message = errorMessage(e);
  if (/user_script|Error running script/.test(message)) return e instanceof Error ? e : new Error(message);
  return new UnavailableError(`task queue store (redis) is unavailable during ${operation}: ${message}`);
}
