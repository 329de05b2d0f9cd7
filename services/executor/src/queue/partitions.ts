import { InvalidArgumentError } from "@prescient/core";

/**
 * How a Redis queue is split into partitions, each with its own hash tag, so
 * that on a Redis Cluster the queue spreads over several slots (and masters)
 * instead of sitting on one.
 *
 * Key bases: partition 0 is `{keyPrefix}:`, exactly the layout of an
 * unpartitioned queue, so that a deployment keeps its queue when it upgrades
 * and a queue of 1 partition is what it always was. Partition p >= 1 is
 * `{keyPrefix#p}:`: '#' cannot occur in a keyPrefix (options.ts), so no other
 * queue's tag can collide with it.
 *
 * Task ids carry their partition: partition 0 keeps today's `<seq>-<nonce>`
 * (and the bare `<seq>` of tasks queued before nonces), partition p >= 1 is
 * `<p>.<seq>-<nonce>`. An id without a `p.` prefix is in partition 0, so
 * every id issued before partitions existed still routes where its task is.
 * Dead-letter page tokens follow the same rule: `<deadseq>` or `<p>.<deadseq>`.
 *
 * A key's partition is FNV-1a of the key modulo the partition count, so one
 * key always lands in one partition and dedup holds. Changing the count moves
 * keys: a key waiting in its old partition is not seen by an enqueue routed to
 * its new one (one duplicate at most), and tasks in partitions beyond a
 * lowered count are stranded, so lower it only on a drained queue.
 */

/** Most partitions a queue may have: claims visit them in turn, so more only costs. */
export const maxPartitions = 256;

/** The key base (hash tag and colon) of partition p. */
export function partitionBase(keyPrefix: string, p: number): string {
  return p === 0 ? `{${keyPrefix}}:` : `{${keyPrefix}#${p}}:`;
}

/** The partition a canonical task key lands in. */
export function partitionOfKey(key: string, partitions: number): number {
  if (partitions === 1) return 0;
  // FNV-1a over UTF-16 code units: stable across processes and versions, unlike a seeded hash.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
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
