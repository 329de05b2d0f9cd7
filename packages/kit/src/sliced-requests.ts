import {
  type handleClientStreamingCall,
  type handleUnaryCall,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { errorMessage, InternalError } from "@prescient/core";
import type { ContractTypes } from "./contract-types.js";
import type { SlicedDecoder } from "./sliced-decode.js";

const identity = (bytes: Buffer): Buffer => bytes;

/**
 * Takes request decoding of a service's unary and client-streaming methods from grpc-js, so that
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
    if (attrs.responseStream || handler === undefined || desc === undefined) {
      sliced[name] = attrs;
      continue;
    }
    if (attrs.requestStream) {
      // Client streams: each message is decoded as the handler reads it, large ones in slices.
      const deserialize = attrs.requestDeserialize;
      sliced[name] = { ...attrs, requestDeserialize: identity };
      const stream = handler as unknown as handleClientStreamingCall<unknown, unknown>;
      handlers[name] = (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const iterate = call[Symbol.asyncIterator].bind(call);
        Object.defineProperty(call, Symbol.asyncIterator, {
          // Configurable: the auth guard, inside, wraps this iterator in its own.
          configurable: true,
          writable: true,
          value: async function* decoded() {
            for await (const bytes of { [Symbol.asyncIterator]: iterate }) {
              try {
                yield decoder.isInline(bytes as Buffer)
                  ? deserialize(bytes as Buffer)
                  : await decoder.decode(desc, bytes as Buffer);
              } catch (e) {
                throw new InternalError(`Error deserializing request: ${errorMessage(e)}`);
              }
            }
          },
        });
        stream(call, callback);
      };
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
