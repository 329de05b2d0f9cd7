import { errorMessage } from "@prescient/core";
import { isCluster, type LuaArg, type LuaCommand, type RedisClient } from "@prescient/kit";
import { storeError } from "./store-error.js";

/**
 * Runs a write script, then `WAIT replicas timeoutMs`, in one pipeline.
 * WAIT counts the replicas that have this connection's writes so far, so it
 * must follow the script on the same connection to the same master: a
 * Cluster client sends a keyless command to an arbitrary node, but sends a
 * pipeline whole to the node of its keys' slot, so the pipeline carries
 * WAIT to the script's master. Answers the script's reply and how many
 * replicas acknowledged.
 *
 * The script goes as its defined command (EVALSHA), and on NOSCRIPT (the
 * server's scripts flushed) ioredis resends it with its source outside the
 * pipeline, so after the WAIT. SCRIPT EXISTS, just before it in the
 * pipeline, tells when that may have happened; then a second WAIT, in a
 * pipeline with the script's first key (so on the same connection, after
 * the resent script), counts the replicas instead. That costs a round trip
 * only on a connection's first durable write after a flush or a restart.
 */
export async function runAndWait(
  operation: string,
  command: LuaCommand,
  client: RedisClient,
  keys: readonly string[],
  args: readonly LuaArg[],
  replicas: number,
  timeoutMs: number,
): Promise<{ reply: unknown; replicas: number }> {
  try {
    command.define(client);
    const pipeline = client.pipeline().script("EXISTS", command.sha);
    command.queue(pipeline, keys, args).wait(replicas, timeoutMs);
    const [cached, reply, acked] = values(await pipeline.exec());
    if (Array.isArray(cached) && cached[0] === 1) return { reply, replicas: Number(acked) };
    const [, again] = values(
      await client
        .pipeline()
        .exists(keys[0] as string)
        .wait(replicas, timeoutMs)
        .exec(),
    );
    return { reply, replicas: Number(again) };
  } catch (e) {
    // ioredis follows a redirect in a pipeline only when every command got
    // it, and WAIT (keyless) is never redirected: after a failover the
    // script's MOVED would recur until the slot map is refreshed.
    if (isCluster(client) && /^(MOVED|ASK|CLUSTERDOWN)/.test(errorMessage(e))) client.refreshSlotsCache();
    throw storeError(operation, e);
  }
}

/** A pipeline's replies, or its first error thrown. */
function values(replies: [Error | null, unknown][] | null): unknown[] {
  return (replies ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
