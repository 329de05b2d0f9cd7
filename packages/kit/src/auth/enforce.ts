import type {
  Metadata,
  ServerReadableStream,
  ServerUnaryCall,
  ServiceDefinition,
  sendUnaryData,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { NotFoundError } from "@prescient/core";
import { Counter } from "prom-client";
import { kitRegistry } from "../metrics.js";
import { toServiceError } from "../status.js";
import type { Authenticator } from "./authenticator.js";
import { checkAccess, type Principal, tenantAllowed } from "./principal.js";
import { openServices, type RpcPolicy, rpcPolicy, serviceOfPath } from "./rpc-policy.js";

const refused = new Counter({
  name: "prescient_auth_refused_total",
  help: "Calls refused before their handler ran, by method and status code.",
  labelNames: ["grpc_method", "grpc_code"] as const,
  registers: [kitRegistry],
});

/** The principal of each call that passed, for handlers that scope their answers. */
const principals = new WeakMap<Metadata, Principal>();

/** Who made the call whose metadata this is; undefined when auth is off. */
export function principalOf(metadata: Metadata): Principal | undefined {
  return principals.get(metadata);
}

/**
 * Wraps every method of a service so that its caller is authenticated and
 * checked against the RPC table (rpc-policy.ts) before the handler runs.
 * Every service a ServiceHost carries passes here, so no handler can skip
 * it. A method the table lacks is refused at registration: fail closed.
 */
export function guardService(
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
  authenticator: Authenticator,
): UntypedServiceImplementation {
  const guarded: UntypedServiceImplementation = {};
  for (const [name, attrs] of Object.entries(definition)) {
    const handler = implementation[name] ?? implementation[attrs.originalName ?? ""];
    if (handler === undefined) continue;
    if (openServices.has(serviceOfPath(attrs.path))) {
      guarded[name] = handler;
      continue;
    }
    const policy = rpcPolicy(attrs.path);
    if (policy === undefined)
      throw new Error(
        `${attrs.path} has no entry in the RPC auth table (packages/kit/src/auth/rpc-policy.ts)`,
      );
    if (attrs.responseStream) throw new Error(`${attrs.path}: server streaming has no auth guard yet`);
    guarded[name] = attrs.requestStream
      ? guardClientStream(attrs.path, policy, handler, authenticator)
      : guardUnary(attrs.path, policy, handler, authenticator);
  }
  return guarded;
}

type Reply = sendUnaryData<unknown>;

function refuse(method: string, e: unknown, callback: Reply): void {
  const { error } = toServiceError(e);
  refused.labels(method, String(error.code)).inc();
  callback(error, null);
}

function guardUnary(
  method: string,
  policy: RpcPolicy,
  handler: UntypedHandleCall,
  authenticator: Authenticator,
): UntypedHandleCall {
  const run = handler as (call: ServerUnaryCall<unknown, unknown>, callback: Reply) => void;
  return (call: ServerUnaryCall<unknown, unknown>, callback: Reply) => {
    let principal: Principal;
    try {
      principal = authenticator.authenticate(call.metadata);
      checkAccess(principal, method, policy.role, policy.tenants?.(call.request) ?? []);
    } catch (e) {
      refuse(method, e, callback);
      return;
    }
    principals.set(call.metadata, principal);
    const responseTenants = policy.responseTenants;
    if (responseTenants === undefined) {
      run(call, callback);
      return;
    }
    run(call, (error, response, ...rest) => {
      // Another tenant's record answers as if it did not exist: a denial would confirm the id.
      if (error === null && !responseTenants(response).every((t) => tenantAllowed(principal, t))) {
        refuse(method, new NotFoundError("no such task"), callback);
        return;
      }
      callback(error, response, ...rest);
    });
  };
}

function guardClientStream(
  method: string,
  policy: RpcPolicy,
  handler: UntypedHandleCall,
  authenticator: Authenticator,
): UntypedHandleCall {
  const run = handler as (call: ServerReadableStream<unknown, unknown>, callback: Reply) => void;
  return (call: ServerReadableStream<unknown, unknown>, callback: Reply) => {
    let principal: Principal;
    try {
      principal = authenticator.authenticate(call.metadata);
      checkAccess(principal, method, policy.role, []);
    } catch (e) {
      refuse(method, e, callback);
      call.destroy();
      return;
    }
    principals.set(call.metadata, principal);
    const tenants = policy.tenants;
    if (tenants !== undefined) {
      // Each message is checked as the handler reads it: a denied one fails the
      // whole call (PERMISSION_DENIED through the handler's error path) rather
      // than being dropped silently.
      const iterate = call[Symbol.asyncIterator].bind(call);
      Object.defineProperty(call, Symbol.asyncIterator, {
        value: async function* checked() {
          for await (const message of { [Symbol.asyncIterator]: iterate }) {
            checkAccess(principal, method, policy.role, tenants(message));
            yield message;
          }
        },
      });
    }
    run(call, callback);
  };
}
