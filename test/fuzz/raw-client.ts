import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";

/** What one call came back with. */
export interface Outcome {
  code: status;
  details: string;
  ms: number;
}

const identity = (b: Buffer): Buffer => b;

/**
 * Sends pre-encoded request bytes, so that the fuzzer can send what no typed
 * client would: messages merged from several encodings and mutated bytes.
 * Responses are not decoded: only the status matters here.
 */
export class RawClient {
  readonly #client: Client;

  constructor(address: string) {
    this.#client = new Client(address, credentials.createInsecure());
  }

  unary(path: string, request: Uint8Array, deadlineMs: number): Promise<Outcome> {
    const started = performance.now();
    return new Promise((resolve) => {
      this.#client.makeUnaryRequest(
        path,
        identity,
        identity,
        Buffer.from(request),
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err) => resolve(outcomeOf(err, started)),
      );
    });
  }

  clientStream(path: string, requests: Uint8Array[], deadlineMs: number): Promise<Outcome> {
    const started = performance.now();
    return new Promise((resolve) => {
      const call = this.#client.makeClientStreamRequest(
        path,
        identity,
        identity,
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err) => resolve(outcomeOf(err, started)),
      );
      // A write after the server ended the call early (an error status) is dropped, not thrown.
      call.on("error", () => {});
      for (const r of requests) call.write(Buffer.from(r));
      call.end();
    });
  }

  close(): void {
    this.#client.close();
  }
}

function outcomeOf(err: ServiceError | null, started: number): Outcome {
  const ms = performance.now() - started;
  return err ? { code: err.code, details: err.details, ms } : { code: status.OK, details: "", ms };
}
