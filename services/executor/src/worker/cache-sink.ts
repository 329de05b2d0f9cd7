import { cacheV1 } from "@prescient/contracts";
import { callUnary, clientChannelOptions, peerCredentials } from "@prescient/kit";
import type { ResultSink } from "./ports.js";

/** Writes a batch's results to a remote cache service with one PutMany. */
export class GrpcCacheSink implements ResultSink {
  readonly #client: cacheV1.CacheServiceClient;
  readonly #timeoutMs: number;

  constructor(address: string, timeoutMs = 10_000) {
    this.#client = new cacheV1.CacheServiceClient(address, peerCredentials(), clientChannelOptions());
    this.#timeoutMs = timeoutMs;
  }

  async putMany(entries: cacheV1.PutEntry[]): Promise<void> {
    await callUnary(this.#client.putMany.bind(this.#client), { entries }, { timeoutMs: this.#timeoutMs });
  }

  close(): void {
    this.#client.close();
  }
}
