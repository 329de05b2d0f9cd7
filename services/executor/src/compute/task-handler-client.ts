import { executorV1 } from "@prescient/contracts";
import { UnavailableError } from "@prescient/core";
import { callUnary, clientChannelOptions, featuresToProto, peerCredentials } from "@prescient/kit";
import type { HandlerItem, HandlerOutcome, TaskHandlers } from "../worker/ports.js";

/**
 * Calls users' TaskHandlerService endpoints, one Handle per task group. The
 * address is the task type's `handler`, else the default (PRESCIENT_HANDLER_ADDR).
 */
export class GrpcTaskHandlers implements TaskHandlers {
  readonly #clients = new Map<string, executorV1.TaskHandlerServiceClient>();
  readonly #defaultAddress: string | undefined;
  readonly #timeoutMs: number;

  constructor(defaultAddress: string | undefined, timeoutMs = 60_000) {
    this.#defaultAddress = defaultAddress;
    this.#timeoutMs = timeoutMs;
  }

  async handle(
    taskType: string,
    handler: string | undefined,
    items: HandlerItem[],
  ): Promise<HandlerOutcome[]> {
    const address = handler ?? this.#defaultAddress;
    if (address === undefined)
      throw new UnavailableError(
        `no task handler for external task type ${taskType}: set its handler in the task types or PRESCIENT_HANDLER_ADDR`,
      );
    let client = this.#clients.get(address);
    if (client === undefined) {
      client = new executorV1.TaskHandlerServiceClient(address, peerCredentials(), clientChannelOptions());
      this.#clients.set(address, client);
    }
    const response = await callUnary(
      client.handle.bind(client),
      {
        taskType,
        items: items.map((i) => ({
          taskId: i.taskId,
          key: i.key,
          tenant: i.tenant,
          entityId: i.entityId,
          features: featuresToProto(i.features),
        })),
      },
      { timeoutMs: this.#timeoutMs },
    );
    return response.results.map(
      (r): HandlerOutcome =>
        r.value !== undefined
          ? { taskId: r.taskId, value: r.value, modelName: r.modelName, modelVersion: r.modelVersion }
          : { taskId: r.taskId, error: r.error ?? "handler gave neither value nor error" },
    );
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
  }
}
