export * from "./client.js";
export * from "./config.js";
export * from "./handlers.js";
export * from "./logger.js";
export * from "./metrics.js";
export * from "./reflection.js";
export * from "./service-host.js";
export * from "./status.js";
