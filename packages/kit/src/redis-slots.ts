/**
 * Redis Cluster placement, for stores that split their keys over several
 * hash tags (the analyzer's shards, the queue's partitions): a stable hash to
 * route members, the slot of a key as Redis computes it, and hash tags chosen
 * so that N of them fall on N different masters.
 */

export const clusterSlots = 16384;

/**
 * FNV-1a (32-bit) over UTF-16 code units: cheap, and the same in every process
 * and version (unlike a seeded hash), so every replica routes a member alike.
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * FNV-1a with murmur3's final avalanche (fmix32), for choices that compare
 * or mask hashes of similar strings (A/B arms, rendezvous weights): FNV
 * alone leaves their low bits and their order too close.
 */
export function fnv1aMixed(text: string): number {
  let h = fnv1a(text);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash tag Redis Cluster hashes: what the first `{` and the next `}` enclose, when not empty. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

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

/**
 * `${base}.${j}` for the first counter j whose slot lies within an eighth of
 * `width` of `target` (circularly). Tags aimed at the middles of N equal slot
 * ranges land one per master under the even split `redis-cli --cluster
 * create` makes, where tags left to chance would share masters (3 tags on 3
 * masters all distinct only 2 times in 9). A few hundred tries at most.
 */
export function tagNearSlot(base: string, target: number, width: number): string {
  const slack = Math.max(1, width / 8);
  const aim = ((target % clusterSlots) + clusterSlots) % clusterSlots;
  for (let j = 0; ; j++) {
    const tag = `${base}.${j}`;
    const d = Math.abs(keySlot(tag) - aim);
    if (Math.min(d, clusterSlots - d) <= slack) return tag;
  }
}
