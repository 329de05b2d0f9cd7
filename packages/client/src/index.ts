export { canonicalJson, inputDigest } from "@prescient/core";
export {
  type CallOptions,
  clientLimits,
  createClient,
  type EnqueueOptions,
  type InvalidateSelector,
  type LookupOptions,
  type LookupResult,
  PrescientClient,
  type PutEntry,
  type PutOptions,
  type TriggerEvent,
  type TriggerResult,
} from "./client.js";
export * from "./errors.js";
export type { InferResult, TensorInput } from "./infer.js";
export type { KeyInput } from "./keys.js";
export type { ClientOptions, RetryOptions, ServiceRole, TlsOptions } from "./options.js";
export { serviceConfig } from "./transport.js";
export {
  bytesValue,
  type DecodedValue,
  decodeValue,
  jsonValue,
  type TensorValue,
  tensorValue,
} from "./values.js";
