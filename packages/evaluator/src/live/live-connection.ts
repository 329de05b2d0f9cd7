import { type ChannelCredentials, type ClientOptions, credentials } from "@grpc/grpc-js";
import { clientChannelOptions } from "@prescient/kit";

/**
 * How a live replay reaches the mesh: TLS credentials and client options
 * (a bearer-token interceptor) as the CLI builds them from its connection
 * flags, so a replay can drive a mesh that has TLS or auth on.
 */
export interface LiveConnection {
  credentials: ChannelCredentials;
  channel: ClientOptions;
}

/** The connection given, or plaintext with the kit's channel options. */
export function connectionOf(connection: LiveConnection | undefined): {
  credentials: ChannelCredentials;
  channel: ClientOptions;
} {
  return connection ?? { credentials: credentials.createInsecure(), channel: clientChannelOptions() };
}
