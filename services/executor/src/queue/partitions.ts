import { InvalidArgumentError } from "@prescient/core";
import { clusterSlots, fnv1a, keySlot, tagNearSlot } from "@prescient/kit";

/**
 * How a Redis queue is split into partitions, each with its own hash tag, so
 * that on a Redis Cluster the queue spreads over several slots (and masters)
 * instead of sitting on one.
 *
 * Key bases: partition 0 is `{keyPrefix}:`, exactly the layout of an
 * unpartitioned queue, so that a deployment keeps its queue when it upgrades
 * and a queue of 1 partition is what it always was. Partition p >= 1 has a
 * tag of its own starting `keyPrefix#` (partitionBases): '#' cannot occur in
 * a keyPrefix (options.ts), so no other queue's tag can collide with it.
 *
 * Task ids carry their partition: partition 0 keeps today's `<seq>-<nonce>`
 * (and the bare `<seq>` of tasks queued before nonces), partition p >= 1 is
 * `<p>.<seq>-<nonce>`. An id without a `p.` prefix is in partition 0, so
 * every id issued before partitions existed still routes where its task is.
 * Dead-letter page tokens follow the same rule: `<deadseq>` or `<p>.<deadseq>`.
 *
 * A key's partition is FNV-1a of the key modulo the partition count, so one
 * key always lands in one partition and dedup holds. Changing the count moves
 * keys and gives partitions 1 and up new tags, so change it only on a drained
 * queue: partition 0's tasks stay, the others' would be stranded.
 */

/** Most partitions a queue may have: claims visit them in turn, so more only costs. */
export const maxPartitions = 256;

/**
 * The key base (hash tag and colon) of each of `partitions` partitions.
 * Partition 0 is `{keyPrefix}:`. Partition p >= 1 is `{keyPrefix#N.p.j}:`,
 * j the first counter that puts its slot in the middle of the p-th of N
 * equal slot ranges after partition 0's (kit's tagNearSlot), so that under
 * an even slot split the partitions fall on different masters rather than
 * by chance (3 on 3 masters
 * all distinct only 2 times in 9). The count N is in the tag: another count
 * is another layout for partitions 1 and up, which is why the count changes
 * only on a drained queue (partition 0 stays).
 */
export function partitionBases(keyPrefix: string, partitions: number): string[] {
  const width = clusterSlots / partitions;
  // Partition 0's slot is fixed; the others aim at the middles of the next ranges over.
  const first = Math.floor(keySlot(`{${keyPrefix}}`) / width);
  return Array.from({ length: partitions }, (_, p) => {
    if (p === 0) return `{${keyPrefix}}:`;
    const middle = (((first + p) % partitions) + 0.5) * width;
    return `{${tagNearSlot(`${keyPrefix}#${partitions}.${p}`, middle, width)}}:`;
  });
}

/** The partition a canonical task key lands in (FNV-1a, stable across processes and versions). */
export function partitionOfKey(key: string, partitions: number): number {
  return partitions === 1 ? 0 : fnv1a(key) % partitions;
}

/** The partition named by a (validated) task id: its `p.` prefix, or 0 without one. */
export function partitionOfId(id: string): number {
  const dot = id.indexOf(".");
  return dot < 0 ? 0 : Number(id.slice(0, dot));
}

/** What a new task id of partition p starts with. */
export function idPrefix(p: number): string {
  return p === 0 ? "" : `${p}.`;
}

/**
 * Partition p's share of a total (queue or dead-letter capacity): the total
 * split as evenly as integers allow, so the shares add up to it exactly.
 */
export function partitionShare(total: number, partitions: number, p: number): number {
  return Math.floor(total / partitions) + (p < total % partitions ? 1 : 0);
}

/** A dead-letter page token: where the last page stopped. */
export interface DeadLetterCursor {
  partition: number;
  deadseq: number;
}

export function formatPageToken(c: DeadLetterCursor): string {
  return `${idPrefix(c.partition)}${c.deadseq}`;
}

export function parsePartitionedPageToken(token: string | undefined, partitions: number): DeadLetterCursor {
  if (token === undefined || token === "") return { partition: 0, deadseq: 0 };
  const m = /^(?:([1-9][0-9]{0,2})\.)?([0-9]{1,16})$/.exec(token);
  const partition = Number(m?.[1] ?? 0);
  if (m === null || partition >= partitions)
    throw new InvalidArgumentError("pageToken is not one this queue issued");
  return { partition, deadseq: Number(m[2]) };
}

/** Indices of `items` grouped by partition, in their original order within each. */
export function groupByPartition<T>(
  items: readonly T[],
  partitionOf: (item: T) => number,
): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  items.forEach((item, i) => {
    const p = partitionOf(item);
    const group = groups.get(p);
    if (group === undefined) groups.set(p, [i]);
    else group.push(i);
  });
  return groups;
}
