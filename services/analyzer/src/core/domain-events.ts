import { errorMessage, eventTypeProblem, validateEntityId, validateTenant } from "@prescient/core";
import { type EventLimits, eventTime, type Validated, validRelated } from "./events.js";

/**
 * Domain events (user_login, campaign_created...) as the precomputer passes
 * them on after a Trigger: the analyzer learns from them which reads follow
 * which event, and which entities relate to which users.
 */
export interface DomainEventInput {
  time?: Date | undefined;
  tenant: string;
  type: string;
  entityId: string;
  userId: string;
  /** Entities the event concerns besides its own (explicit relations). */
  relatedEntityIds?: readonly string[] | undefined;
}

export interface DomainEvent {
  time: number;
  tenant: string;
  type: string;
  entityId: string;
  userId: string;
  relatedEntityIds: readonly string[];
}

export function validateDomainEvent(e: DomainEventInput, limits: EventLimits): Validated<DomainEvent> {
  const time = eventTime(e.time, limits);
  if (typeof time === "string") return { ok: false, reason: time };
  const badType = eventTypeProblem("type", e.type);
  if (badType !== undefined) return { ok: false, reason: badType };
  try {
    validateTenant(e.tenant);
  } catch (err) {
    return { ok: false, reason: errorMessage(err) };
  }
  for (const [field, id] of [
    ["entity_id", e.entityId],
    ["user_id", e.userId],
  ] as const)
    try {
      if (id !== "") validateEntityId(id);
    } catch (err) {
      return { ok: false, reason: errorMessage(err).replace(/^entity_id/, field) };
    }
  if (e.entityId === "" && e.userId === "") return { ok: false, reason: "needs an entity_id or a user_id" };
  const related = e.relatedEntityIds ?? [];
  const bad = validRelated(related);
  if (bad !== undefined) return { ok: false, reason: bad };
  return {
    ok: true,
    event: {
      time,
      tenant: e.tenant,
      type: e.type,
      entityId: e.entityId,
      userId: e.userId,
      relatedEntityIds: related,
    },
  };
}
