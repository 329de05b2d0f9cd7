import { create, type FileRegistry, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type { FuzzCase } from "./rpc-fuzz.js";

/**
 * Requests that once made a handler fail, by RPC path: the fuzz test sends
 * them before its generated cases, so a fixed bug stays fixed.
 */
export function regressionCases(registry: FileRegistry): Record<string, FuzzCase[]> {
  const encoded = (typeName: string, init: Record<string, unknown>): FuzzCase => {
    const desc = registry.getMessage(typeName)!;
    return { kind: "valid", messages: [toBinary(desc, create(desc, init as MessageInitShape<typeof desc>))] };
  };
  return {
    // A task type named after an Object.prototype member found that member as its payload
    // builder: INTERNAL "Cannot convert undefined or null to object".
    "/prescient.executor.v1.TaskHandlerService/Handle": [
      encoded("prescient.executor.v1.HandleRequest", {
        taskType: "valueOf",
        items: [{ taskId: "t-1", key: "acme/valueOf/ad-1", tenant: "acme", entityId: "ad-1" }],
      }),
    ],
  };
}
