import { type KeyParts, parseKey } from "@prescient/core";
import { addCount, type Counts, type SkipReason, skipReasons } from "./types.js";

/** A key that can be recomputed from the entity store: it has an entity id and a declared type. */
export interface EntityKey {
  key: string;
  tenant: string;
  taskType: string;
  entityId: string;
}

/**
 * Parses a key handed over by a peer (the analyzer's ranking, the cache's
 * refresh-due set) into an entity key, or the reason it cannot be one.
 */
export function entityKeyOf(key: string, isTaskType: (name: string) => boolean): EntityKey | SkipReason {
  let parts: KeyParts;
  try {
    parts = parseKey(key);
  } catch {
    return skipReasons.badKey;
  }
  // An input-addressed result has no entity record to rebuild its inputs from.
  if (parts.entityId === undefined) return skipReasons.semanticKey;
  if (!isTaskType(parts.taskType)) return skipReasons.unknownTaskType;
  return { key, tenant: parts.tenant, taskType: parts.taskType, entityId: parts.entityId };
}

/**
 * Keeps the usable patterns the analyzer ranked, in order and without
 * duplicates; counts the rest by reason. The analyzer parsed and validated
 * each key already and names its parts, so they are not parsed again: on
 * every refresh-ahead run that would be ten thousand keys.
 */
export function usablePatterns<T extends EntityKey>(
  items: readonly T[],
  isTaskType: (name: string) => boolean,
  skipped: Counts,
): T[] {
  const out: T[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const why = item.entityId.startsWith("#")
      ? skipReasons.semanticKey
      : !isTaskType(item.taskType)
        ? skipReasons.unknownTaskType
        : seen.has(item.key)
          ? skipReasons.duplicate
          : undefined;
    if (why !== undefined) {
      addCount(skipped, why);
      continue;
    }
    seen.add(item.key);
    out.push(item);
  }
  return out;
}

/** Keeps the usable keys, in order and without duplicates; counts the rest by reason. */
export function usableKeys<T extends { key: string }>(
  items: readonly T[],
  isTaskType: (name: string) => boolean,
  skipped: Counts,
): Array<T & EntityKey> {
  const out: Array<T & EntityKey> = [];
  const seen = new Set<string>();
  for (const item of items) {
    const k = entityKeyOf(item.key, isTaskType);
    if (typeof k === "string") {
      addCount(skipped, k);
      continue;
    }
    if (seen.has(k.key)) {
      addCount(skipped, skipReasons.duplicate);
      continue;
    }
    seen.add(k.key);
    out.push({ ...item, ...k });
  }
  return out;
}
