/**
 * The one mapping between wire (generated proto) and domain types. It imports
 * only the contracts, core and grpc-js, so the client can use it without the
 * service kit's server-side dependencies.
 */
export * from "./features.js";
export * from "./keys.js";
export * from "./lookup-outcomes.js";
export * from "./status.js";
export * from "./task-reasons.js";
