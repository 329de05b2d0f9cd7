import {
  errorMessage,
  escapeEntityId,
  formatKey,
  type LookupOutcome,
  maxRelatedEntities,
  parseKey,
  validateEntityId,
  validateTenant,
} from "@prescient/core";
import { outcomeFromProto } from "@prescient/kit/wire";

/**
 * The analyzer's two kinds of input, as they arrive (proto-shaped, so the
 * service can pass decoded messages straight in) and as the core uses them
 * once validated. Validation is per event: a bad event yields a reason and the
 * rest of its batch or stream goes on.
 */

/** A lookup's outcome; "unknown" when the reporter left it unspecified. */
export type Outcome = LookupOutcome | "unknown";

export interface QueryEventInput {
  time?: Date | undefined;
  tenant: string;
  taskType: string;
  entityId: string;
  /** Canonical key; derived from tenant, task type and entity when empty. */
  key: string;
  userId: string;
  outcome: number;
  computeMs: number;
  latencyMs: number;
}

export interface QueryEvent {
  /** ms since the epoch. */
  time: number;
  key: string;
  tenant: string;
  taskType: string;
  /** Raw entity id, or `#<digest>` for an input-addressed key. */
  entityId: string;
  /** `{tenant}/{escaped entity}`: an entity across task types. */
  entity: string;
  userId: string;
  outcome: Outcome;
  computeMs: number;
  latencyMs: number;
}

export interface ActionEventInput {
  time?: Date | undefined;
  tenant: string;
  userId: string;
  action: string;
  attributes: Record<string, string>;
  /** Entities the action concerns, related to its user (explicit relations). */
  relatedEntityIds?: readonly string[] | undefined;
}

export interface ActionEvent {
  time: number;
  tenant: string;
  userId: string;
  action: string;
  relatedEntityIds?: readonly string[];
}

export interface EventLimits {
  /** Now, ms. */
  now: number;
  /** Events further in the future than this are rejected (clock skew). */
  maxClockSkewMs: number;
  /** Events older than this (ms) are rejected: they fall outside retention. */
  maxAgeMs: number;
}

export type Validated<T> = { ok: true; event: T } | { ok: false; reason: string };

/** A day: no lookup or compute takes longer, so larger values are corrupt. */
const maxDurationMs = 86_400_000;
const maxUserIdBytes = 256;
const maxAttributes = 64;
export const actionNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function eventTime(time: Date | undefined, limits: EventLimits): number | string {
  if (time === undefined) return limits.now;
  const t = time.getTime();
  if (!Number.isFinite(t)) return "time is not a valid timestamp";
  if (t > limits.now + limits.maxClockSkewMs) return "time is in the future beyond the allowed clock skew";
  if (t < limits.now - limits.maxAgeMs) return "time is older than the retention window";
  return t;
}

function validUserId(userId: string, required: boolean): string | undefined {
  if (userId.length === 0) return required ? "user_id is empty" : undefined;
  if (userId.includes("\uFFFD") || !userId.isWellFormed()) return "user_id is not valid UTF-8";
  // A UTF-16 unit is at most 3 UTF-8 bytes: short ids need no count.
  if (userId.length * 3 > maxUserIdBytes && Buffer.byteLength(userId, "utf8") > maxUserIdBytes)
    return `user_id is longer than ${maxUserIdBytes} bytes`;
  return undefined;
}

function validDuration(name: string, v: number): string | undefined {
  if (!Number.isFinite(v) || v < 0 || v > maxDurationMs)
    return `${name} must be a finite number from 0 to ${maxDurationMs}`;
  return undefined;
}

/** Resolves the key from either the key field or tenant/task_type/entity_id, which must agree. */
function resolveKey(e: QueryEventInput): { key: string; tenant: string; taskType: string; entityId: string } {
  if (e.key !== "") {
    const parts = parseKey(e.key);
    const entityId = parts.entityId ?? `#${parts.digest ?? ""}`;
    if (e.tenant !== "" && e.tenant !== parts.tenant) throw new Error("tenant differs from the key's tenant");
    if (e.taskType !== "" && e.taskType !== parts.taskType)
      throw new Error("task_type differs from the key's task type");
    if (e.entityId !== "" && e.entityId !== entityId)
      throw new Error("entity_id differs from the key's entity");
    return { key: e.key, tenant: parts.tenant, taskType: parts.taskType, entityId };
  }
  const key = formatKey({ tenant: e.tenant, taskType: e.taskType, entityId: e.entityId });
  return { key, tenant: e.tenant, taskType: e.taskType, entityId: e.entityId };
}

export function validateQueryEvent(e: QueryEventInput, limits: EventLimits): Validated<QueryEvent> {
  const time = eventTime(e.time, limits);
  if (typeof time === "string") return { ok: false, reason: time };
  let resolved: ReturnType<typeof resolveKey>;
  try {
    resolved = resolveKey(e);
  } catch (err) {
    return { ok: false, reason: errorMessage(err) };
  }
  const outcome = e.outcome === 0 ? "unknown" : outcomeFromProto(e.outcome);
  if (outcome === undefined) return { ok: false, reason: `outcome ${e.outcome} is not a LookupOutcome` };
  const bad =
    validUserId(e.userId, false) ??
    validDuration("compute_ms", e.computeMs) ??
    validDuration("latency_ms", e.latencyMs);
  if (bad !== undefined) return { ok: false, reason: bad };
  const subject = resolved.entityId.startsWith("#")
    ? resolved.entityId
    : escapeEntityId(validateEntityId(resolved.entityId));
  return {
    ok: true,
    event: {
      time,
      key: resolved.key,
      tenant: resolved.tenant,
      taskType: resolved.taskType,
      entityId: resolved.entityId,
      entity: `${resolved.tenant}/${subject}`,
      userId: e.userId,
      outcome,
      computeMs: e.computeMs,
      latencyMs: e.latencyMs,
    },
  };
}

export function validateActionEvent(e: ActionEventInput, limits: EventLimits): Validated<ActionEvent> {
  const time = eventTime(e.time, limits);
  if (typeof time === "string") return { ok: false, reason: time };
  try {
    validateTenant(e.tenant);
  } catch (err) {
    return { ok: false, reason: errorMessage(err) };
  }
  const badUser = validUserId(e.userId, true);
  if (badUser !== undefined) return { ok: false, reason: badUser };
  if (!actionNamePattern.test(e.action))
    return {
      ok: false,
      reason: `action ${JSON.stringify(e.action.slice(0, 80))} must match ${actionNamePattern.source}`,
    };
  if (Object.keys(e.attributes).length > maxAttributes)
    return { ok: false, reason: `more than ${maxAttributes} attributes` };
  const related = e.relatedEntityIds ?? [];
  const badRelated = validRelated(related);
  if (badRelated !== undefined) return { ok: false, reason: badRelated };
  return {
    ok: true,
    event: {
      time,
      tenant: e.tenant,
      userId: e.userId,
      action: e.action,
      ...(related.length > 0 ? { relatedEntityIds: related } : {}),
    },
  };
}

/** Checks explicit related entity ids: bounded count first, then each id. */
export function validRelated(ids: readonly string[]): string | undefined {
  if (ids.length > maxRelatedEntities)
    return `related_entity_ids holds ${ids.length} ids; the limit is ${maxRelatedEntities}`;
  for (const [i, id] of ids.entries())
    try {
      validateEntityId(id);
    } catch (err) {
      return `related_entity_ids[${i}]: ${errorMessage(err)}`;
    }
  return undefined;
}

/** Counts of one ingest call, with the first rejections (bounded) and their positions. */
export interface IngestResult {
  accepted: number;
  rejected: number;
  rejections: Array<{ index: number; reason: string }>;
}

export const emptyIngestResult = (): IngestResult => ({ accepted: 0, rejected: 0, rejections: [] });
