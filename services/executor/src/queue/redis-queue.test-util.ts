import type { Redis } from "ioredis";
import { partitionOfKey } from "./partitions.js";
import { task } from "./queue-conformance.test-util.js";

/** Deletes every partition of a queue on one node: `{prefix}:*` and `{prefix#p}:*` (partitions.ts). */
export async function deleteQueue(redis: Redis, keyPrefix: string): Promise<void> {
  for (const pattern of [`{${keyPrefix}}:*`, `{${keyPrefix}#*`]) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  }
}

/** `count` entity names whose task("...") key lands in partition p of n. */
export function entitiesIn(p: number, n: number, count: number, stem = "e"): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++)
    if (partitionOfKey(task(`${stem}${i}`).key, n) === p) out.push(`${stem}${i}`);
  return out;
}
