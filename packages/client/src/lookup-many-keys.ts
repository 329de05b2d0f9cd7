import type { cacheV1, commonV1 } from "@prescient/contracts";

/** The key fields of a LookupManyRequest: either keys, or tenant, task_type and entity_ids. */
export type LookupManyKeys = Pick<cacheV1.LookupManyRequest, "keys" | "tenant" | "taskType" | "entityIds">;

/**
 * The compact form (tenant, task_type, entity_ids) when every key is an
 * entity id of one tenant and task type, as a batch of candidates is: about
 * a fifth of the request's bytes, and cheaper to encode and decode on both
 * sides. Otherwise, and when `compact` is false, the keys as they are.
 */
export function lookupManyKeys(keys: readonly commonV1.Key[], compact: boolean): LookupManyKeys {
  const first = keys[0];
  if (!compact || first === undefined) return { keys: [...keys], entityIds: [] };
  const entityIds = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as commonV1.Key;
    if (k.entityId === undefined || k.tenant !== first.tenant || k.taskType !== first.taskType)
      return { keys: [...keys], entityIds: [] };
    entityIds[i] = k.entityId;
  }
  return { keys: [], tenant: first.tenant, taskType: first.taskType, entityIds };
}
