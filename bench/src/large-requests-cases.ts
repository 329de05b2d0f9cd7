import { analyzerV1, cacheV1, executorV1, inference, precomputerV1 } from "@prescient/contracts";

/**
 * The largest requests a client may send (just under the 16 MiB message
 * limit), of the shapes that cost a handler the most per byte: big tensors,
 * big payloads, full batches, many features, a huge tensor shape.
 */
export interface LargeCase {
  name: string;
  /** gRPC method path. */
  path: string;
  /** The request, encoded. */
  bytes: () => Buffer;
  /** Decodes a request as the service's generated code does: the baseline's work. */
  decode: (b: Buffer) => unknown;
}

const MB = 1024 * 1024;
const key = (i: number, type = "ctr_prediction") => ({ tenant: "bench", taskType: type, entityId: `e-${i}` });
const features = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, j) => [`f${j}`, { text: "x".repeat(40) }]));

const entry = (i: number, value: cacheV1.PutEntry["value"]): cacheV1.PutEntry => ({
  key: key(i),
  value,
  modelName: "bench",
  modelVersion: "1",
  computeMs: 1,
  inputDigest: "",
  tags: [],
});

const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export const largeCases: LargeCase[] = [
  {
    name: "Put: one tensor of 1.9M values",
    path: "/prescient.cache.v1.CacheService/Put",
    bytes: () => {
      const n = 1_900_000;
      const t = { name: "p", datatype: "FP64", shape: [BigInt(n)], data: Array(n).fill(0.5) };
      return buf(
        cacheV1.PutRequest.encode({
          entry: entry(1, { tensors: { tensors: [t] }, contentType: "" }),
        }).finish(),
      );
    },
    decode: (b) => cacheV1.PutRequest.decode(b),
  },
  {
    name: "Put: a 15 MB payload",
    path: "/prescient.cache.v1.CacheService/Put",
    bytes: () =>
      buf(
        cacheV1.PutRequest.encode({
          entry: entry(2, { payload: Buffer.alloc(15 * MB, 1), contentType: "application/octet-stream" }),
        }).finish(),
      ),
    decode: (b) => cacheV1.PutRequest.decode(b),
  },
  {
    name: "Put: a shape of 1M dimensions (the former stall)",
    path: "/prescient.cache.v1.CacheService/Put",
    bytes: () => {
      const t = { name: "p", datatype: "FP32", shape: Array(1_000_000).fill(2n ** 62n), data: [1] };
      return buf(
        cacheV1.PutRequest.encode({
          entry: entry(3, { tensors: { tensors: [t] }, contentType: "" }),
        }).finish(),
      );
    },
    decode: (b) => cacheV1.PutRequest.decode(b),
  },
  {
    name: "PutMany: 1,000 entries of 15 KB",
    path: "/prescient.cache.v1.CacheService/PutMany",
    bytes: () =>
      buf(
        cacheV1.PutManyRequest.encode({
          entries: Array.from({ length: 1000 }, (_, i) =>
            entry(1000 + i, { payload: Buffer.alloc(15_000, 2), contentType: "application/octet-stream" }),
          ),
        }).finish(),
      ),
    decode: (b) => cacheV1.PutManyRequest.decode(b),
  },
  {
    name: "EnqueueMany: 1,000 tasks of 256 features",
    path: "/prescient.executor.v1.ExecutorService/EnqueueMany",
    bytes: () =>
      buf(
        executorV1.EnqueueManyRequest.encode({
          tasks: Array.from({ length: 1000 }, (_, i) => ({
            key: key(i, "dashboard_data"),
            priority: 1,
            reason: 7,
            features: features(256),
          })),
        }).finish(),
      ),
    decode: (b) => executorV1.EnqueueManyRequest.decode(b),
  },
  {
    name: "TriggerMany: 1,000 events of 200 features",
    path: "/prescient.precomputer.v1.PrecomputerService/TriggerMany",
    bytes: () =>
      buf(
        precomputerV1.TriggerManyRequest.encode({
          events: Array.from({ length: 1000 }, (_, i) => ({
            type: "no_rule_event",
            tenant: "bench",
            entityId: `e-${i}`,
            userId: "",
            features: features(200),
            attributes: {},
            relatedEntityIds: [],
          })),
        }).finish(),
      ),
    decode: (b) => precomputerV1.TriggerManyRequest.decode(b),
  },
  {
    name: "RecordEvents: 60,000 events",
    path: "/prescient.analyzer.v1.AnalyzerService/RecordEvents",
    bytes: () =>
      buf(
        analyzerV1.RecordEventsRequest.encode(
          analyzerV1.RecordEventsRequest.fromPartial({
            events: Array.from({ length: 60_000 }, (_, i) => ({
              type: "user_login",
              tenant: "bench",
              entityId: `e-${i}`,
              userId: `u-${i % 1000}`,
              time: new Date(),
              relatedEntityIds: Array.from({ length: 4 }, (_, j) => `c-${i}-${j}`),
            })),
          }),
        ).finish(),
      ),
    decode: (b) => analyzerV1.RecordEventsRequest.decode(b),
  },
  {
    name: "ModelInfer: ctr_prediction, 500k rows",
    path: "/inference.GRPCInferenceService/ModelInfer",
    bytes: () => {
      const rows = 500_000;
      return buf(
        inference.ModelInferRequest.encode(
          inference.ModelInferRequest.fromPartial({
            modelName: "ctr_prediction",
            inputs: [{ name: "features", datatype: "FP32", shape: [BigInt(rows), 8n] }],
            rawInputContents: [Buffer.alloc(rows * 8 * 4)],
          }),
        ).finish(),
      );
    },
    decode: (b) => inference.ModelInferRequest.decode(b),
  },
];
