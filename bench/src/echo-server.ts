import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import { clientChannelOptions } from "@prescient/kit";

/**
 * A bare grpc-js echo: the ceiling for any Node gRPC service on this machine.
 * It answers every request with a fixed response of a chosen size, so it can
 * stand in for a service whose request and response sizes are known.
 */
const identity = (b: Buffer): Buffer => b;

const definition: ServiceDefinition = {
  Echo: {
    path: "/bench.EchoService/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface EchoServer {
  address: string;
  close(): Promise<void>;
}

export async function startEchoServer(responseBytes: number): Promise<EchoServer> {
  const server = new Server();
  const response = Buffer.alloc(responseBytes, 7);
  server.addService(definition, {
    Echo: (_call: unknown, callback: (e: null, r: Buffer) => void) => callback(null, response),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

export class EchoClient {
  readonly #client: Client;
  readonly #request: Buffer;

  constructor(address: string, requestBytes: number) {
    this.#client = new Client(address, credentials.createInsecure(), clientChannelOptions());
    this.#request = Buffer.alloc(requestBytes, 3);
  }

  echo(): Promise<Buffer> {
    return new Promise((resolve, reject) =>
      this.#client.makeUnaryRequest(
        "/bench.EchoService/Echo",
        identity,
        identity,
        this.#request,
        new Metadata(),
        {},
        (e, r) => (e || r === undefined ? reject(e ?? new Error("empty echo")) : resolve(r)),
      ),
    );
  }

  close(): void {
    this.#client.close();
  }
}
