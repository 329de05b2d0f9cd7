import { fnv1aMixed } from "@prescient/kit";
import type { TraceRead } from "../trace/record.js";

/**
 * The deterministic A/B split: FNV-1a of the unit (the key, or the user)
 * picks the arm, so the same trace always splits the same way, and a user
 * (or key) always sees one arm.
 */
export const fnv1a32 = fnv1aMixed;

export function splitUnit(read: Pick<TraceRead, "key" | "user">, split: "key" | "user"): string {
  return split === "user" && read.user !== "" ? `u:${read.user}` : `k:${read.key}`;
}

/** 0 for the first arm, 1 for the second. */
export const armOf = (unit: string): 0 | 1 => (fnv1a32(unit) & 1) as 0 | 1;
