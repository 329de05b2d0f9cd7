import { executorV1 } from "@prescient/contracts";
import { InvalidArgumentError, mapInSlices } from "@prescient/core";
import type { HandlerItem, HandlerOutcome, TaskHandlers } from "@prescient/executor";
import { featuresFromProto, type ServiceHost, unary } from "@prescient/kit";
import { referenceModel, referencePayload } from "./payloads.js";

export const taskHandlerServiceName = "prescient.executor.v1.TaskHandlerService";

function outcomeOf(taskType: string, item: HandlerItem): HandlerOutcome {
  return {
    taskId: item.taskId,
    value: { payload: referencePayload(taskType, item), contentType: "application/json" },
    modelName: referenceModel.name,
    modelVersion: referenceModel.version,
  };
}

/**
 * The reference handler in process, as the executor's TaskHandlers: types
 * that name their own `handler` address go to `fallback` (over gRPC); the
 * rest are answered here without a network hop.
 */
export class ReferenceTaskHandlers implements TaskHandlers {
  readonly #fallback: TaskHandlers | undefined;

  constructor(fallback?: TaskHandlers) {
    this.#fallback = fallback;
  }

  async handle(
    taskType: string,
    handler: string | undefined,
    items: HandlerItem[],
  ): Promise<HandlerOutcome[]> {
    if (handler !== undefined && this.#fallback !== undefined)
      return this.#fallback.handle(taskType, handler, items);
    return mapInSlices(items, (item) => outcomeOf(taskType, item));
  }
}

/** The reference handler as a TaskHandlerService, for executors in other processes. */
export function referenceHandlerImplementation(): executorV1.TaskHandlerServiceServer {
  return {
    handle: unary(taskHandlerServiceName, "Handle", async (req: executorV1.HandleRequest) => {
      if (req.taskType === "") throw new InvalidArgumentError("task_type is required");
      return {
        results: req.items.map(
          (item, i): executorV1.HandleItemResult => ({
            taskId: item.taskId,
            value: {
              payload: referencePayload(req.taskType, {
                key: item.key,
                tenant: item.tenant,
                entityId: item.entityId,
                features: featuresFromProto(item.features, `items[${i}].features`),
              }),
              contentType: "application/json",
            },
            modelName: referenceModel.name,
            modelVersion: referenceModel.version,
          }),
        ),
      };
    }),
  };
}

/** Mounts the reference TaskHandlerService on a host (SERVING at once: it has no state). */
export function mountReferenceHandler(host: ServiceHost): void {
  host.addService(
    taskHandlerServiceName,
    executorV1.TaskHandlerServiceService,
    referenceHandlerImplementation(),
  );
  host.setServing(taskHandlerServiceName, true);
}
