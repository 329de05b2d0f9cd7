/**
 * Limits of the domain events backends report (Trigger) and the analyzer
 * learns from (RecordEvents, RecordActions): one definition, so that an
 * event the precomputer accepts is one the analyzer accepts.
 */

/** Event types: lower-case words joined by underscores, at most 64 characters. */
export const eventTypePattern = /^[a-z][a-z0-9_]{0,63}$/;

/** What is wrong with an event type, naming its field (quoting little of it); undefined when it is well formed. */
export function eventTypeProblem(field: string, type: string): string | undefined {
  return eventTypePattern.test(type)
    ? undefined
    : `${field} ${JSON.stringify(type.slice(0, 80))} must match ${eventTypePattern.source}`;
}

/** Entities one event or action may name as related to its user and entity. */
export const maxRelatedEntities = 64;
