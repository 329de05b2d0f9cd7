import { createHash } from "node:crypto";
import { errorMessage, UnavailableError } from "@prescient/core";
import { isCluster, type RedisClient } from "@prescient/kit";

export type { RedisClient };

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
 * Runs a write script, then `WAIT replicas timeoutMs`, in one pipeline.
 * WAIT counts the replicas that have this connection's writes so far, so it
 * must follow the script on the same connection to the same master: a
 * Cluster client sends a keyless command to an arbitrary node, but sends a
 * pipeline whole to the node of its keys' slot, so the pipeline carries
 * WAIT to the script's master. Answers the script's reply and how many
 * replicas acknowledged.
 */
export async function runAndWait(
  script: LuaScript,
  client: RedisClient,
  keys: readonly string[],
  args: readonly (string | number)[],
  replicas: number,
  timeoutMs: number,
): Promise<{ reply: unknown; replicas: number }> {
  const attempt = async (withSource: boolean): Promise<[unknown, unknown]> => {
    const pipeline = client.pipeline();
    if (withSource) pipeline.eval(script.source, keys.length, ...keys, ...args);
    else pipeline.evalsha(script.sha, keys.length, ...keys, ...args);
    pipeline.wait(replicas, timeoutMs);
    const results = await pipeline.exec();
    const [[scriptError, reply] = [], [waitError, acked] = []] = results ?? [];
    if (scriptError) throw scriptError;
    if (waitError) throw waitError;
    return [reply, acked];
  };
  try {
    try {
      const [reply, acked] = await attempt(false);
      return { reply, replicas: Number(acked) };
    } catch (e) {
      if (!errorMessage(e).startsWith("NOSCRIPT")) throw e;
      const [reply, acked] = await attempt(true);
      return { reply, replicas: Number(acked) };
    }
  } catch (e) {
    // ioredis follows a redirect in a pipeline only when every command got
    // it, and WAIT (keyless) is never redirected: after a failover the
    // script's MOVED would recur until the slot map is refreshed.
    if (isCluster(client) && /^(MOVED|ASK|CLUSTERDOWN)/.test(errorMessage(e))) client.refreshSlotsCache();
    throw storeError(script.name, e);
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
