import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import { clientChannelOptions } from "@prescient/kit";
import { Redis } from "ioredis";

/**
 * The fair baseline for LookupMany: the least a Node gRPC service can do to
 * serve a batch of keys from Redis. Request: `repeated string keys = 1`
 * (physical Redis keys); one MGET; response: `repeated bytes values = 1`,
 * the stored bytes as they are (an absent key answers an empty value). No
 * validation, no freshness, no stats: what is left between this and
 * LookupMany is the cache's own work.
 */
const path = "/bench.MgetService/Mget";
const identity = (b: Buffer): Buffer => b;

export function encodeKeys(keys: readonly string[]): Buffer {
  const w = new BinaryWriter();
  for (const k of keys) w.uint32(10).string(k);
  return Buffer.from(w.finish());
}

export function decodeKeys(bytes: Uint8Array): string[] {
  const r = new BinaryReader(bytes);
  const keys: string[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 10) keys.push(r.string());
    else r.skip(tag & 7);
  }
  return keys;
}

export function encodeValues(values: readonly (Buffer | null)[]): Buffer {
  const w = new BinaryWriter();
  for (const v of values) w.uint32(10).bytes(v ?? new Uint8Array(0));
  return Buffer.from(w.finish());
}

/** The length-delimited fields numbered `field` (1 here; 2 is LookupManyResponse.values), as views. */
export function decodeValues(bytes: Uint8Array, field = 1): Uint8Array[] {
  const r = new BinaryReader(bytes);
  const values: Uint8Array[] = [];
  const wanted = (field << 3) | 2;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === wanted) values.push(r.bytes());
    else r.skip(tag & 7);
  }
  return values;
}

const definition: ServiceDefinition = {
  Mget: {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface MgetServer {
  address: string;
  close(): Promise<void>;
}

export async function startMgetServer(redisUrl: string): Promise<MgetServer> {
  const redis = new Redis(redisUrl);
  const server = new Server();
  server.addService(definition, {
    Mget: (call: { request: Buffer }, callback: (e: Error | null, r?: Buffer) => void) => {
      redis.mgetBuffer(decodeKeys(call.request)).then(
        (values) => callback(null, encodeValues(values)),
        (e: Error) => callback(e),
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      redis.disconnect();
    },
  };
}

export class MgetClient {
  readonly #client: Client;

  constructor(address: string) {
    this.#client = new Client(address, credentials.createInsecure(), clientChannelOptions());
  }

  /** The stored bytes of each key, in order (empty for an absent key). */
  mget(keys: readonly string[]): Promise<Uint8Array[]> {
    return new Promise((resolve, reject) =>
      this.#client.makeUnaryRequest(path, encodeKeys, decodeValues, keys, new Metadata(), {}, (e, r) =>
        e || r === undefined ? reject(e ?? new Error("empty MGET answer")) : resolve(r),
      ),
    );
  }

  close(): void {
    this.#client.close();
  }
}
