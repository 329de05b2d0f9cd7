import { inputDigest } from "./canonical-json.js";
import { InvalidArgumentError } from "./errors.js";

/**
 * The key schema: `{tenant}/{task_type}/{escaped entity_id}` or, for
 * input-addressed results, `{tenant}/{task_type}/#{sha256 hex}`.
 *
 * Tenants and task types come from small safe alphabets, and entity ids are
 * percent-escaped so that no id contains '/', '#', or a glob character: no id
 * or pattern can ever reach another tenant's or type's entries.
 */
export interface KeyParts {
  tenant: string;
  taskType: string;
  /** Exactly one of entityId and digest is set. */
  entityId?: string;
  digest?: string;
}

export const keyLimits = {
  tenantMaxLength: 64,
  taskTypeMaxLength: 64,
  entityIdMaxBytes: 512,
} as const;

const tenantPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const taskTypePattern = /^[a-z][a-z0-9_]*$/;
const digestPattern = /^[0-9a-f]{64}$/;

export function validateTenant(tenant: string): string {
  if (tenant.length === 0) throw new InvalidArgumentError("tenant is empty");
  if (tenant.length > keyLimits.tenantMaxLength)
    throw new InvalidArgumentError(`tenant is longer than ${keyLimits.tenantMaxLength} characters`);
  if (!tenantPattern.test(tenant))
    throw new InvalidArgumentError(
      `tenant ${JSON.stringify(tenant)} may hold only letters, digits, '.', '_' and '-' (no '/')`,
    );
  return tenant;
}

export function validateTaskTypeName(taskType: string): string {
  if (taskType.length === 0) throw new InvalidArgumentError("task_type is empty");
  if (taskType.length > keyLimits.taskTypeMaxLength || !taskTypePattern.test(taskType))
    throw new InvalidArgumentError(
      `task_type ${JSON.stringify(taskType.slice(0, 80))} must match ${taskTypePattern.source} and be at most ${keyLimits.taskTypeMaxLength} characters`,
    );
  return taskType;
}

export function validateEntityId(entityId: string): string {
  if (entityId.length === 0) throw new InvalidArgumentError("entity_id is empty");
  // Protobuf decoders replace invalid UTF-8 with U+FFFD; a lone surrogate is not UTF-8 either.
  if (entityId.includes("\uFFFD") || !entityId.isWellFormed())
    throw new InvalidArgumentError("entity_id is not valid UTF-8");
  // A UTF-16 unit is at most 3 UTF-8 bytes: short ids need no count.
  if (entityId.length * 3 <= keyLimits.entityIdMaxBytes) return entityId;
  const bytes = Buffer.byteLength(entityId, "utf8");
  if (bytes > keyLimits.entityIdMaxBytes)
    throw new InvalidArgumentError(
      `entity_id is ${bytes} bytes; the limit is ${keyLimits.entityIdMaxBytes} bytes`,
    );
  return entityId;
}

export function validateDigest(digest: string): string {
  if (!digestPattern.test(digest))
    throw new InvalidArgumentError("input_digest must be 64 lowercase hex characters (SHA-256)");
  return digest;
}

/** Percent-escapes an entity id so it holds only [A-Za-z0-9._~%-]. */
export function escapeEntityId(entityId: string): string {
  // Most ids need no escape: encodeURIComponent and the replace below leave these characters alone.
  if (unreserved(entityId)) return entityId;
  return encodeURIComponent(entityId).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function unescapeEntityId(escaped: string): string {
  return escaped.includes("%") ? decodeURIComponent(escaped) : escaped;
}

/** Whether every character is one of [A-Za-z0-9._~-], which escaping keeps as it is. */
function unreserved(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) || // a-z
      (c >= 65 && c <= 90) || // A-Z
      (c >= 48 && c <= 57) || // 0-9
      c === 45 || // -
      c === 46 || // .
      c === 95 || // _
      c === 126; // ~
    if (!ok) return false;
  }
  return true;
}

/** Validates the parts and renders the canonical key string. */
export function formatKey(parts: KeyParts): string {
  validateTenant(parts.tenant);
  validateTaskTypeName(parts.taskType);
  if ((parts.entityId === undefined) === (parts.digest === undefined))
    throw new InvalidArgumentError("a key needs exactly one of entity_id, input_digest or inputs");
  if (parts.entityId !== undefined)
    return canonicalKey(parts.tenant, parts.taskType, validateEntityId(parts.entityId));
  return `${parts.tenant}/${parts.taskType}/#${validateDigest(parts.digest ?? "")}`;
}

/**
 * The canonical key of an entity's result, from parts already validated
 * (formatKey validates, then renders with this): for hot paths that hold
 * parts checked on their way in.
 */
export function canonicalKey(tenant: string, taskType: string, entityId: string): string {
  return `${tenant}/${taskType}/${escapeEntityId(entityId)}`;
}

/** Builds key parts for input-addressed results from raw inputs. */
export function semanticKeyParts(tenant: string, taskType: string, inputs: unknown): KeyParts {
  return { tenant, taskType, digest: inputDigest(inputs) };
}

/** Parses a canonical (escaped) key string back into its parts. */
export function parseKey(key: string): KeyParts {
  const first = key.indexOf("/");
  const second = first < 0 ? -1 : key.indexOf("/", first + 1);
  if (first < 0 || second < 0)
    throw new InvalidArgumentError(`key ${JSON.stringify(key.slice(0, 80))} is not tenant/task_type/entity`);
  const tenant = validateTenant(key.slice(0, first));
  const taskType = validateTaskTypeName(key.slice(first + 1, second));
  const subject = key.slice(second + 1);
  if (subject.startsWith("#")) return { tenant, taskType, digest: validateDigest(subject.slice(1)) };
  if (!/^[A-Za-z0-9._~%-]+$/.test(subject))
    throw new InvalidArgumentError("key's entity part is not escaped; use formatKey");
  let entityId: string;
  try {
    entityId = unescapeEntityId(subject);
  } catch {
    throw new InvalidArgumentError("key's entity part has a malformed escape");
  }
  validateEntityId(entityId);
  return { tenant, taskType, entityId };
}

/**
 * Checks a canonical key as parseKey does, for callers that need no parts.
 * The common key (plain characters, no escapes) is checked by one scan that
 * builds nothing; anything else goes through parseKey, for its verdict and
 * its error message.
 */
export function validateKey(key: string): void {
  if (!isPlainKey(key)) parseKey(key);
}

/** Whether parseKey would accept the key as it stands: plain tenant, task type and unescaped entity id. */
function isPlainKey(key: string): boolean {
  const n = key.length;
  let i = 0;
  // The tenant: [A-Za-z0-9][A-Za-z0-9._-]*.
  while (i < n) {
    const c = key.charCodeAt(i);
    if (c === 47) break; // '/'
    const alnum = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
    if (!alnum && (i === 0 || (c !== 46 && c !== 95 && c !== 45))) return false;
    i++;
  }
  if (i === 0 || i > keyLimits.tenantMaxLength || i === n) return false;
  const typeStart = ++i;
  // The task type: [a-z][a-z0-9_]*.
  while (i < n) {
    const c = key.charCodeAt(i);
    if (c === 47) break;
    const ok = (c >= 97 && c <= 122) || (i > typeStart && ((c >= 48 && c <= 57) || c === 95));
    if (!ok) return false;
    i++;
  }
  if (i === typeStart || i - typeStart > keyLimits.taskTypeMaxLength || i === n) return false;
  // The entity: unreserved characters only (no '%' escape, no '#' digest); ASCII, so its length is its bytes.
  const entity = n - i - 1;
  if (entity < 1 || entity > keyLimits.entityIdMaxBytes) return false;
  for (i++; i < n; i++) {
    const c = key.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 57) ||
      c === 45 ||
      c === 46 ||
      c === 95 ||
      c === 126;
    if (!ok) return false;
  }
  return true;
}

/**
 * Parses the human form `tenant/task_type/raw entity id` (as typed on a
 * command line): the entity part is taken literally, '/' included, and
 * `#<64 hex>` names a digest.
 */
export function parseHumanKey(text: string): KeyParts {
  const first = text.indexOf("/");
  const second = first < 0 ? -1 : text.indexOf("/", first + 1);
  if (first < 0 || second < 0)
    throw new InvalidArgumentError(`${JSON.stringify(text.slice(0, 80))} is not tenant/task_type/entity`);
  const tenant = text.slice(0, first);
  const taskType = text.slice(first + 1, second);
  const subject = text.slice(second + 1);
  if (/^#[0-9a-f]{64}$/.test(subject)) return { tenant, taskType, digest: subject.slice(1) };
  return { tenant, taskType, entityId: subject };
}
