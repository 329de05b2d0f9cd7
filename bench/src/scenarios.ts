import { credentials, Metadata } from "@grpc/grpc-js";
import { createClient } from "@prescient/client";
import { cacheV1, type commonV1, inference } from "@prescient/contracts";
import { callUnary, clientChannelOptions } from "@prescient/kit";
import { Redis } from "ioredis";
import { EchoClient } from "./echo-server.js";
import { decodeValues, MgetClient } from "./mget-service.js";

/**
 * Client-side workloads, runnable in a worker thread so that the load
 * generator and the server under test each get a core, as they would on
 * separate machines. Each factory builds its client and returns one call.
 */
export interface Scenario {
  call(): Promise<unknown>;
  close(): void;
}

export type ScenarioArgs =
  | { kind: "echo"; address: string; requestBytes: number }
  | { kind: "lookup"; address: string; keys: commonV1.Key[] }
  /**
   * valuesOnly: the lean answer, values without the per-key LookupResponse.
   * valueBytes (with valuesOnly): the client keeps each Value as its bytes,
   * for the caller to decode when it uses one, as the MGET service's client
   * keeps its payloads; otherwise the generated decoder builds every Value.
   * shippedClient: @prescient/client's lookupValues (with valuesOnly) or
   * lookupMany (without), which decode the answer straight into the values
   * or LookupResults a caller gets.
   */
  | {
      kind: "lookup-many";
      address: string;
      keys: commonV1.Key[];
      batch: number;
      valuesOnly?: boolean;
      valueBytes?: boolean;
      shippedClient?: boolean;
      /** The compact form: tenant, task_type and entity_ids instead of keys. */
      compact?: boolean;
      /** A freshness check: read without counting as a read. */
      peek?: boolean;
      /** Answer each key's expiry alone (the precomputer's freshness check). */
      expiriesOnly?: boolean;
    }
  | { kind: "mget"; redisUrl: string; keys: string[]; batch: number }
  /** The minimal gRPC MGET service of mget-service.ts, given physical Redis keys. */
  | { kind: "mget-service"; address: string; keys: string[]; batch: number }
  /** One ModelInfer, sent as given (the encoded request travels to the worker). */
  | { kind: "infer"; address: string; request: Uint8Array };

export function createScenario(args: ScenarioArgs): Scenario {
  switch (args.kind) {
    case "echo": {
      const client = new EchoClient(args.address, args.requestBytes);
      return { call: () => client.echo(), close: () => client.close() };
    }
    case "lookup": {
      const client = new cacheV1.CacheServiceClient(
        args.address,
        credentials.createInsecure(),
        clientChannelOptions(),
      );
      const lookup = client.lookup.bind(client);
      let i = 0;
      return {
        call: async () => {
          const key = args.keys[i++ % args.keys.length];
          const r = await callUnary(lookup, {
            key,
            onMiss: cacheV1.OnMiss.ON_MISS_NONE,
            features: {},
            userId: "",
            rejectStale: false,
          });
          if (!r.hit) throw new Error("benchmark lookup missed");
        },
        close: () => client.close(),
      };
    }
    case "lookup-many": {
      const client = new cacheV1.CacheServiceClient(
        args.address,
        credentials.createInsecure(),
        clientChannelOptions(),
      );
      const first = args.keys[0];
      const request = (start: number): cacheV1.LookupManyRequest => ({
        ...(args.compact
          ? {
              keys: [],
              tenant: first?.tenant ?? "",
              taskType: first?.taskType ?? "",
              entityIds: args.keys.slice(start, start + args.batch).map((k) => k.entityId ?? ""),
            }
          : { keys: args.keys.slice(start, start + args.batch), entityIds: [] }),
        onMiss: cacheV1.OnMiss.ON_MISS_NONE,
        userId: "",
        rejectStale: false,
        peek: args.peek ?? false,
        valuesOnly: args.valuesOnly ?? false,
        ...(args.expiriesOnly ? { expiriesOnly: true } : {}),
      });
      let offset = 0;
      const next = (): number => {
        offset += args.batch;
        return offset % (args.keys.length - args.batch);
      };
      if (args.shippedClient) {
        client.close();
        const shipped = createClient({ address: args.address, deadlineMs: 30_000 });
        const parts = args.keys.map(({ tenant, taskType, entityId }) => ({
          tenant,
          taskType,
          entityId: entityId ?? "",
        }));
        return {
          call: async () => {
            const start = next();
            const batch = parts.slice(start, start + args.batch);
            const values = args.valuesOnly
              ? await shipped.lookupValues(batch)
              : (await shipped.lookupMany(batch)).map((r) => r.value);
            if (values.length !== args.batch || values.some((v) => v === undefined))
              throw new Error("benchmark LookupMany missed");
          },
          close: () => shipped.close(),
        };
      }
      if (args.valuesOnly && args.valueBytes) {
        const path = cacheV1.CacheServiceService.lookupMany.path;
        const encode = (r: cacheV1.LookupManyRequest): Buffer =>
          Buffer.from(cacheV1.LookupManyRequest.encode(r).finish());
        const decode = (b: Buffer): Uint8Array[] => decodeValues(b, 2);
        return {
          call: async () => {
            const values = await new Promise<Uint8Array[]>((resolve, reject) =>
              client.makeUnaryRequest(path, encode, decode, request(next()), new Metadata(), {}, (e, r) =>
                e || r === undefined ? reject(e ?? new Error("empty LookupMany answer")) : resolve(r),
              ),
            );
            // A key without a value answers a Value with nothing set: zero bytes.
            if (values.length !== args.batch || values.some((v) => v.length === 0))
              throw new Error("benchmark LookupMany missed");
          },
          close: () => client.close(),
        };
      }
      const lookupMany = client.lookupMany.bind(client);
      return {
        call: async () => {
          const r = await callUnary(lookupMany, request(next()));
          const missed = args.expiriesOnly
            ? r.expiresAtMs.length !== args.batch || r.expiresAtMs.some((ms) => ms === 0n)
            : args.valuesOnly
              ? r.values.length !== args.batch ||
                r.values.some((v) => v.tensors === undefined && v.payload === undefined)
              : r.results.length !== args.batch || r.results.some((x) => !x.hit);
          if (missed) throw new Error("benchmark LookupMany missed");
        },
        close: () => client.close(),
      };
    }
    case "infer": {
      const client = new inference.GRPCInferenceServiceClient(
        args.address,
        credentials.createInsecure(),
        clientChannelOptions(),
      );
      const infer = client.modelInfer.bind(client);
      const request = inference.ModelInferRequest.decode(args.request);
      return { call: () => callUnary(infer, request), close: () => client.close() };
    }
    case "mget": {
      const redis = new Redis(args.redisUrl);
      let offset = 0;
      return {
        call: async () => {
          offset += args.batch;
          const start = offset % (args.keys.length - args.batch);
          const values = await redis.mgetBuffer(...args.keys.slice(start, start + args.batch));
          if (values.some((v) => v === null)) throw new Error("benchmark MGET missed");
        },
        close: () => redis.disconnect(),
      };
    }
    case "mget-service": {
      const client = new MgetClient(args.address);
      let offset = 0;
      return {
        call: async () => {
          offset += args.batch;
          const start = offset % (args.keys.length - args.batch);
          const values = await client.mget(args.keys.slice(start, start + args.batch));
          if (values.some((v) => v.length === 0)) throw new Error("benchmark MGET service missed");
        },
        close: () => client.close(),
      };
    }
  }
}
