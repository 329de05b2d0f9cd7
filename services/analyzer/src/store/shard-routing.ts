/**
 * Where a sharded analyzer store (sharded-store.ts) puts things: which shard
 * a member goes to, and the key prefix, with its own Redis Cluster hash tag,
 * of each shard.
 */

/**
 * FNV-1a (32-bit) over UTF-16 code units: cheap, and the same in every
 * process, so every analyzer replica routes a member to the same shard.
 */
export function memberHash(member: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < member.length; i++) {
    h ^= member.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard of a member among `shards`. */
export const shardOf = (member: string, shards: number): number =>
  shards === 1 ? 0 : memberHash(member) % shards;

export const clusterSlots = 16384;

/** The Redis Cluster slot of a key: CRC16 (XMODEM) of its hash tag, or of the whole key without one. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(hashTagOf(key) ?? key);
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % clusterSlots;
}

/** The hash tag Redis Cluster hashes: what the first `{` and the next `}` enclose, when not empty. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

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
    const mid = (i + 0.5) * width;
    for (let j = 0; ; j++) {
      const candidate = `${tag ?? "analyzer"}-${shards}.${i}.${j}`;
      if (Math.abs(keySlot(candidate) - mid) <= width / 8)
        return at < 0
          ? `${prefix}{${candidate}}:`
          : `${prefix.slice(0, at)}{${candidate}}${prefix.slice(at + tag!.length + 2)}`;
    }
  });
}
