import {
  type handleUnaryCall,
  type ServerUnaryCall,
  type ServiceDefinition,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { errorMessage } from "@prescient/core";
import type { ContractTypes } from "./contract-types.js";
import type { SlicedDecoder } from "./sliced-decode.js";

const identity = (bytes: Buffer): Buffer => bytes;

/**
 * Takes request decoding of a service's unary methods from grpc-js, so that
 * large requests decode in slices (see SlicedDecoder) while small ones
 * decode synchronously exactly as before. grpc-js would otherwise decode
 * every request in one call before the handler runs, and a 16 MB request
 * would hold the event loop, health checks included, for hundreds of ms.
 *
 * A request that does not decode is answered as grpc-js answers it:
 * INTERNAL "Error deserializing request: …".
 */
export function sliceRequestDecoding(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
  types: ContractTypes,
  decoder: SlicedDecoder,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const sliced: Record<string, ServiceDefinition[string]> = {};
  const handlers: UntypedServiceImplementation = { ...implementation };
  for (const [name, attrs] of Object.entries(definition)) {
    const handler = implementation[name] as handleUnaryCall<unknown, unknown> | undefined;
    const desc = types.requestOf(attrs.path);
    if (attrs.requestStream || attrs.responseStream || handler === undefined || desc === undefined) {
      sliced[name] = attrs;
      continue;
    }
    const deserialize = attrs.requestDeserialize;
    sliced[name] = { ...attrs, requestDeserialize: identity };
    const refuse = (callback: Parameters<typeof handler>[1], e: unknown) =>
      callback({ code: status.INTERNAL, details: `Error deserializing request: ${errorMessage(e)}` }, null);
    handlers[name] = (call: ServerUnaryCall<unknown, unknown>, callback: Parameters<typeof handler>[1]) => {
      const bytes = call.request as Buffer;
      if (decoder.isInline(bytes)) {
        let request: unknown;
        try {
          request = deserialize(bytes);
        } catch (e) {
          refuse(callback, e);
          return;
        }
        (call as { request: unknown }).request = request;
        handler(call, callback);
        return;
      }
      decoder.decode(desc, bytes).then(
        (request) => {
          (call as { request: unknown }).request = request;
          // A turn of the loop between the decode's last slice and the handler's first.
          setImmediate(() => handler(call, callback));
        },
        (e: unknown) => refuse(callback, e),
      );
    };
  }
  return { definition: sliced as ServiceDefinition, implementation: handlers };
}
