import type { TraceRead } from "../trace/record.js";

/**
 * The deterministic A/B split: FNV-1a of the unit (the key, or the user)
 * picks the arm, so the same trace always splits the same way, and a user
 * (or key) always sees one arm.
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  // Final avalanche (murmur3's fmix32), so that similar ids do not share their low bit.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function splitUnit(read: Pick<TraceRead, "key" | "user">, split: "key" | "user"): string {
  return split === "user" && read.user !== "" ? `u:${read.user}` : `k:${read.key}`;
}

/** 0 for the first arm, 1 for the second. */
export const armOf = (unit: string): 0 | 1 => (fnv1a32(unit) & 1) as 0 | 1;
