import type { cacheV1, commonV1 } from "@prescient/contracts";
import type { Features } from "../entities/entity-store.js";

/** Where computed results go: the cache, over gRPC or in process. One call per batch. */
export interface ResultSink {
  putMany(entries: cacheV1.PutEntry[]): Promise<void>;
}

/** One item of an external task group. */
export interface HandlerItem {
  taskId: string;
  key: string;
  tenant: string;
  entityId: string;
  features: Features;
}

export type HandlerOutcome =
  | { taskId: string; value: commonV1.Value; modelName: string; modelVersion: string }
  | { taskId: string; error: string };

/** A user's compute for task types of kind `external` (prescient.executor.v1.TaskHandlerService). */
export interface TaskHandlers {
  handle(taskType: string, handler: string | undefined, items: HandlerItem[]): Promise<HandlerOutcome[]>;
}
