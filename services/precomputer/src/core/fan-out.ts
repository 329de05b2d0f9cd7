import {
  canonicalKey,
  eventTypeProblem,
  formatKey,
  InvalidArgumentError,
  maxRelatedEntities,
  validateEntityId,
  validateTenant,
} from "@prescient/core";
import type { KeyBy, TriggerRule } from "./config.js";
import type { Features, PlannedTask, TriggerEvent } from "./types.js";

/**
 * Fan-out: one event becomes one task per task type its rule names, keyed
 * by the event's entity (or its user, per target), at the rule's priority
 * with reason `trigger`. The event's features ride on the first task of each
 * entity, so the executor upserts them once before anything is queued.
 */
export const eventLimits = { attributes: 64, attributeBytes: 1024 } as const;

/**
 * Checks an event's shape, and against its rule where it has one (an event
 * with none is still learned from); errors name the field.
 */
export function validateEvent(event: TriggerEvent, rule: TriggerRule | undefined, field = "event"): void {
  if (event.type === "") throw new InvalidArgumentError(`${field}.type is empty`);
  const badType = eventTypeProblem(`${field}.type`, event.type);
  if (badType !== undefined) throw new InvalidArgumentError(badType);
  named(`${field}.tenant`, () => validateTenant(event.tenant));
  if (event.entityId !== "") named(`${field}.entity_id`, () => validateEntityId(event.entityId));
  if (event.userId !== "") named(`${field}.user_id`, () => validateEntityId(event.userId));
  if (event.entityId === "" && event.userId === "")
    throw new InvalidArgumentError(`${field} needs an entity_id or a user_id`);
  const related = event.relatedEntityIds ?? [];
  if (related.length > maxRelatedEntities)
    throw new InvalidArgumentError(
      `${field}.related_entity_ids holds ${related.length} ids; the limit is ${maxRelatedEntities}`,
    );
  for (const [i, id] of related.entries())
    named(`${field}.related_entity_ids[${i}]`, () => validateEntityId(id));
  const attributes = Object.entries(event.attributes);
  if (attributes.length > eventLimits.attributes)
    throw new InvalidArgumentError(`${field}.attributes has more than ${eventLimits.attributes} entries`);
  for (const [k, v] of attributes)
    if (Buffer.byteLength(k) + Buffer.byteLength(v) > eventLimits.attributeBytes)
      throw new InvalidArgumentError(
        `${field}.attributes.${k.slice(0, 40)} is longer than ${eventLimits.attributeBytes} bytes`,
      );
  if (event.time !== undefined && !Number.isFinite(event.time))
    throw new InvalidArgumentError(`${field}.time is not a valid timestamp`);
  // A configured user-keyed target needs the user; a learned one (with a probability) is simply left out.
  for (const t of rule?.targets ?? [])
    if (t.probability === undefined && t.keyBy === "user" && event.userId === "")
      throw new InvalidArgumentError(
        `${field}.user_id is required: rule ${event.type} keys ${t.taskType} by user`,
      );
}

function named<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    throw new InvalidArgumentError(`${field}: ${(e as Error).message}`);
  }
}

/** The entity a target is keyed by: the user for `key_by: user`, else the entity (the user when the event has none). */
export function subjectOf(event: TriggerEvent, keyBy: KeyBy): string {
  if (keyBy === "user") return event.userId;
  if (keyBy === "related") return event.userId !== "" ? event.userId : event.entityId;
  return event.entityId !== "" ? event.entityId : event.userId;
}

/**
 * The tasks of one (validated) event, one per target and, for a `related`
 * target, one per related entity (`related`: task type → entity ids),
 * duplicates dropped. Learned targets carry their probability, which makes
 * them background work that the budget admits by expected value.
 *
 * The event's own ids were checked by validateEvent and the rule's task types
 * when the rule was taken in, so their keys are rendered without checking
 * again; related ids come from the analyzer and are checked here.
 */
export function planFanOut(
  event: TriggerEvent,
  rule: TriggerRule,
  related: ReadonlyMap<string, readonly string[]> = noRelated,
): PlannedTask[] {
  const tasks: PlannedTask[] = [];
  // Most rules fan out to a handful of tasks: a scan of those beats a Set per event.
  let seen: Set<string> | undefined;
  // Features describe the event's own entity, and ride on its first task only.
  const own = event.entityId || event.userId;
  let featuresSent = !hasFeatures(event.features);
  for (const target of rule.targets) {
    const isRelated = target.keyBy === "related";
    const subjects = isRelated ? (related.get(target.taskType) ?? []) : [subjectOf(event, target.keyBy)];
    for (const entityId of subjects) {
      if (entityId === "") continue;
      const key = isRelated
        ? formatKey({ tenant: event.tenant, taskType: target.taskType, entityId })
        : canonicalKey(event.tenant, target.taskType, entityId);
      if (seen === undefined && tasks.length >= scanLimit) seen = new Set(tasks.map((t) => t.key));
      if (seen !== undefined ? seen.has(key) : tasks.some((t) => t.key === key)) continue;
      seen?.add(key);
      const task: PlannedTask = {
        key,
        tenant: event.tenant,
        taskType: target.taskType,
        entityId,
        priority: target.priority,
        reason: "trigger",
      };
      if (target.probability !== undefined) task.probability = target.probability;
      if (!featuresSent && entityId === own) {
        task.features = event.features;
        featuresSent = true;
      }
      tasks.push(task);
    }
  }
  return tasks;
}

const noRelated: ReadonlyMap<string, readonly string[]> = new Map();
/** Fan-outs up to this many tasks find duplicates by a scan; longer ones (related targets) by a Set. */
const scanLimit = 16;

function hasFeatures(f: Features): boolean {
  for (const _ in f) return true;
  return false;
}
