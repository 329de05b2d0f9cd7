import type { TraceEvent, TraceRead } from "./record.js";

/**
 * What the backends behind a trace tell prescient besides their lookups and
 * triggers, the same in the simulation (the prescient policy's analyzer)
 * and in a live replay (the mesh's AnalyzerService), so that both learn
 * from the same calls:
 * - a read by a user is also that user's action, named by the type read
 *   (RecordActions): the next-action model and the next-read rules learn
 *   what users do from it;
 * - an event announced for a later time (a launch: `anchor` after `time`)
 *   is registered as a launch of its entity (RegisterLaunch), for launch
 *   warming, and not triggered when it is announced.
 */
export interface BackendAction {
  /** ms since the epoch, trace time. */
  time: number;
  tenant: string;
  userId: string;
  action: string;
}

export interface BackendLaunch {
  tenant: string;
  campaignId: string;
  /** ms since the epoch, trace time. */
  launchAt: number;
  entityIds: string[];
  /** The announcing event's type: the mesh warms the task types of its rule. */
  event: string;
}

/** The action a read stands for, or undefined when no user made it. */
export function actionOfRead(read: TraceRead): BackendAction | undefined {
  if (read.user === "") return undefined;
  return { time: read.time, tenant: read.tenant, userId: read.user, action: read.taskType };
}

/** The launch an event announces, or undefined when it is an event of now (to trigger). */
export function launchOfEvent(event: TraceEvent): BackendLaunch | undefined {
  if (!(event.anchor > event.time)) return undefined;
  return {
    tenant: event.tenant,
    campaignId: event.entity,
    launchAt: event.anchor,
    entityIds: [event.entity],
    event: event.event,
  };
}
