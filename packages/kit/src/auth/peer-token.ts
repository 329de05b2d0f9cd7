import { InterceptingCall, type Interceptor, type Metadata } from "@grpc/grpc-js";

let peerToken: () => string | undefined = () => undefined;

/**
 * Sets the token every internal client of this process sends to its peers
 * (a function, so a rotated file is seen). Called once at start-up by
 * setUpAuth; until then, and when it gives undefined, calls carry no token.
 */
export function usePeerToken(token: () => string | undefined): void {
  peerToken = token;
}

/**
 * Adds `authorization: Bearer <peer token>` to calls that carry none. On
 * every client made with clientChannelOptions(), so no peer call site can
 * forget it; a call that set its own authorization (a CLI --token) keeps it.
 */
export const peerTokenInterceptor: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata: Metadata, listener, next) {
      const token = peerToken();
      if (token !== undefined && metadata.get("authorization").length === 0)
        metadata.set("authorization", `Bearer ${token}`);
      next(metadata, listener);
    },
  });
