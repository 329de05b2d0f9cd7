import { clusterSlots, fnv1a, hashTagOf, keySlot, tagNearSlot } from "@prescient/kit";
/**
 * Where a sharded analyzer store (sharded-store.ts) puts things: which shard
 * a member goes to, and the key prefix, with its own Redis Cluster hash tag,
 * of each shard.
 */

/** FNV-1a (kit's): the same in every process, so every analyzer replica routes a member to the same shard. */
export const memberHash = fnv1a;

export { clusterSlots, hashTagOf, keySlot };

/** The shard of a member among `shards`. */
export const shardOf = (member: string, shards: number): number =>
  shards === 1 ? 0 : memberHash(member) % shards;

/**
 * The key prefix of each of `shards` shards of the store under `prefix`.
 * One shard keeps `prefix` itself: today's key layout, nothing to migrate.
 *
 * With more, shard i's hash tag is the prefix's tag (or "analyzer") with
 * `-<shards>.<i>.<j>` appended, j the first counter that puts the tag's slot
 * in the middle quarter of the i-th of `shards` equal slot ranges. Under the
 * even slot split `redis-cli --cluster create` makes, the shards therefore
 * fall on the masters as evenly as their number allows (4 shards on 3
 * masters: 2048, 6144, 10240 and 14336 ± 512 → 1, 2, 1), where plain tags
 * "analyzer-0..3" would land on masters by chance (3 shards on 3 masters all
 * distinct only 2 times in 9). The shard count is in the tag, so stores of
 * different shard counts never share a key: changing the count starts an
 * empty layout rather than a corrupt one.
 */
export function shardPrefixes(prefix: string, shards: number): string[] {
  if (!Number.isInteger(shards) || shards < 1)
    throw new RangeError(`storeShards must be a positive integer, not ${shards}`);
  if (shards === 1) return [prefix];
  const tag = hashTagOf(prefix);
  const at = tag === undefined ? -1 : prefix.indexOf(`{${tag}}`);
  const width = clusterSlots / shards;
  return Array.from({ length: shards }, (_, i) => {
    const candidate = tagNearSlot(`${tag ?? "analyzer"}-${shards}.${i}`, (i + 0.5) * width, width);
    return at < 0
      ? `${prefix}{${candidate}}:`
      : `${prefix.slice(0, at)}{${candidate}}${prefix.slice(at + (tag?.length ?? 0) + 2)}`;
  });
}
