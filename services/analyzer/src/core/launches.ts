import {
  eventTypeProblem,
  InvalidArgumentError,
  validateEntityId,
  validateTaskTypeName,
  validateTenant,
} from "@prescient/core";
import type { LaunchRecord } from "../store/analyzer-store.js";

/** Validation of a launch as registered: what is due, for whom, and which predictions to warm. */
export interface LaunchInput {
  id: string;
  tenant: string;
  campaignId: string;
  launchAt?: Date | undefined;
  entityIds: string[];
  taskTypes: string[];
  /** The event type that announced the launch, whose rule names the task types when `taskTypes` is empty. */
  event?: string | undefined;
}

export const launchLimits = { entities: 100_000, taskTypes: 256, idLength: 128 } as const;
const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export function validateLaunch(input: LaunchInput, now: number): LaunchRecord {
  validateTenant(input.tenant);
  if (input.campaignId === "") throw new InvalidArgumentError("launch.campaign_id is empty");
  if (input.campaignId.length > launchLimits.idLength || !idPattern.test(input.campaignId))
    throw new InvalidArgumentError(
      `launch.campaign_id must match ${idPattern.source} and be at most ${launchLimits.idLength} characters`,
    );
  if (input.id !== "" && (input.id.length > launchLimits.idLength || !idPattern.test(input.id)))
    throw new InvalidArgumentError(
      `launch.id must match ${idPattern.source} and be at most ${launchLimits.idLength} characters`,
    );
  const launchAt = input.launchAt?.getTime();
  if (launchAt === undefined || !Number.isFinite(launchAt))
    throw new InvalidArgumentError("launch.launch_at is required");
  if (launchAt < now) throw new InvalidArgumentError("launch.launch_at is in the past");
  if (input.entityIds.length > launchLimits.entities)
    throw new InvalidArgumentError(`launch has more than ${launchLimits.entities} entity_ids`);
  if (input.taskTypes.length > launchLimits.taskTypes)
    throw new InvalidArgumentError(`launch has more than ${launchLimits.taskTypes} task_types`);
  input.entityIds.forEach((e, i) => {
    try {
      validateEntityId(e);
    } catch (err) {
      throw new InvalidArgumentError(`launch.entity_ids[${i}]: ${(err as Error).message}`);
    }
  });
  for (const t of input.taskTypes) validateTaskTypeName(t);
  const event = input.event ?? "";
  const badEvent = event === "" ? undefined : eventTypeProblem("launch.event", event);
  if (badEvent !== undefined) throw new InvalidArgumentError(badEvent);
  // An event names what to warm too: its rule's task types, for the campaign itself.
  if (input.entityIds.length === 0 && input.taskTypes.length === 0 && event === "")
    throw new InvalidArgumentError("launch names no entity_ids, task_types or event: nothing to warm");
  return {
    // The same campaign and time register as the same launch, so retries are idempotent.
    id: input.id !== "" ? input.id : `${input.campaignId}@${launchAt}`,
    tenant: input.tenant,
    campaignId: input.campaignId,
    launchAt,
    entityIds: [...new Set(input.entityIds)],
    taskTypes: [...new Set(input.taskTypes)],
    event,
  };
}
