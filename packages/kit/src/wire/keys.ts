import type { commonV1 } from "@prescient/contracts";
import {
  escapeEntityId,
  formatKey,
  InvalidArgumentError,
  inputDigest,
  isInvalidArgument,
  type KeyParts,
  type TaskType,
  type TaskTypeRegistry,
  validateEntityId,
} from "@prescient/core";

/** A validated key: its canonical form, its parts and its task type. */
export interface ResolvedKey {
  key: string;
  parts: KeyParts;
  type: TaskType;
}

/**
 * Validates a request's Key and renders its canonical form. Entity ids are
 * escaped and semantic inputs digested by @prescient/core, so no key can
 * reach another tenant's or type's entries. Errors name `field`.
 */
export function resolveKey(
  registry: TaskTypeRegistry,
  key: commonV1.Key | undefined,
  field: string,
): ResolvedKey {
  // Inline rather than withField: this runs for every key of every lookup.
  try {
    return resolve(registry, key);
  } catch (e) {
    if (isInvalidArgument(e)) throw new InvalidArgumentError(`${field}: ${e.message}`);
    throw e;
  }
}

/**
 * resolveKey over a batch (LookupMany). A key with the tenant and task type
 * of the key before it skips their checks and the registry lookup, already
 * done: most batches are one tenant and type, so a key then costs its entity
 * id's check and escape alone. Results and errors are resolveKey's, with
 * `${field}[i]` as the field.
 */
export function resolveKeys(
  registry: TaskTypeRegistry,
  keys: readonly (commonV1.Key | undefined)[],
  field: string,
): ResolvedKey[] {
  const out = new Array<ResolvedKey>(keys.length);
  let last: ResolvedKey | undefined;
  let prefix = "";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (
      last !== undefined &&
      key !== undefined &&
      key.entityId !== undefined &&
      key.inputDigest === undefined &&
      key.inputs === undefined &&
      key.tenant === last.parts.tenant &&
      key.taskType === last.parts.taskType
    ) {
      let escaped: string;
      try {
        escaped = escapeEntityId(validateEntityId(key.entityId));
      } catch (e) {
        if (isInvalidArgument(e)) throw new InvalidArgumentError(`${field}[${i}]: ${e.message}`);
        throw e;
      }
      out[i] = {
        key: prefix + escaped,
        parts: { tenant: key.tenant, taskType: key.taskType, entityId: key.entityId },
        type: last.type,
      };
    } else {
      last = resolveKey(registry, key, `${field}[${i}]`);
      out[i] = last;
      prefix = `${last.parts.tenant}/${last.parts.taskType}/`;
    }
  }
  return out;
}

/**
 * Keys of one tenant and task type, by entity id (LookupMany's compact
 * form): the tenant and type are checked once, then each id costs its
 * check and escape alone. Errors name `${field}[i]`, as resolveKeys's do
 * (a bad tenant or type is reported on the first id).
 */
export function resolveEntityIds(
  registry: TaskTypeRegistry,
  tenant: string,
  taskType: string,
  entityIds: readonly string[],
  field: string,
): ResolvedKey[] {
  const out = new Array<ResolvedKey>(entityIds.length);
  if (entityIds.length === 0) return out;
  const first = resolveKey(registry, { tenant, taskType, entityId: entityIds[0] ?? "" }, `${field}[0]`);
  out[0] = first;
  const prefix = `${tenant}/${taskType}/`;
  for (let i = 1; i < entityIds.length; i++) {
    const entityId = entityIds[i] as string;
    let escaped: string;
    try {
      escaped = escapeEntityId(validateEntityId(entityId));
    } catch (e) {
      if (isInvalidArgument(e)) throw new InvalidArgumentError(`${field}[${i}]: ${e.message}`);
      throw e;
    }
    out[i] = { key: prefix + escaped, parts: { tenant, taskType, entityId }, type: first.type };
  }
  return out;
}

function resolve(registry: TaskTypeRegistry, key: commonV1.Key | undefined): ResolvedKey {
  if (key === undefined) throw new InvalidArgumentError("is required");
  const subjects =
    (key.entityId !== undefined ? 1 : 0) +
    (key.inputDigest !== undefined ? 1 : 0) +
    (key.inputs !== undefined ? 1 : 0);
  if (subjects !== 1)
    throw new InvalidArgumentError(
      `needs exactly one of entity_id, input_digest or inputs (got ${subjects === 0 ? "none" : subjects})`,
    );
  const parts: KeyParts =
    key.entityId !== undefined
      ? { tenant: key.tenant, taskType: key.taskType, entityId: key.entityId }
      : {
          tenant: key.tenant,
          taskType: key.taskType,
          digest: key.inputDigest ?? inputDigest(key.inputs),
        };
  // formatKey first: it checks the tenant and the type's spelling before
  // the registry is asked about a name.
  const canonical = formatKey(parts);
  return { key: canonical, parts, type: registry.get(key.taskType) };
}

/** Runs `check`, prefixing any INVALID_ARGUMENT message with the field it concerns. */
export function withField<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (isInvalidArgument(e)) throw new InvalidArgumentError(`${field}: ${e.message}`);
    throw e;
  }
}

/** The wire form of a key's parts: an entity id, or a digest already computed. */
export function keyToProto(parts: KeyParts): commonV1.Key {
  return parts.entityId !== undefined
    ? { tenant: parts.tenant, taskType: parts.taskType, entityId: parts.entityId }
    : { tenant: parts.tenant, taskType: parts.taskType, inputDigest: parts.digest ?? "" };
}
