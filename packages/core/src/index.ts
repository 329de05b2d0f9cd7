export * from "./canonical-json.js";
export * from "./clock.js";
export * from "./errors.js";
export * from "./freshness.js";
export * from "./key-pattern.js";
export * from "./keys.js";
export * from "./rng.js";
export * from "./task-types.js";
