export * from "./certs.js";
export * from "./grpc-error.js";
export * from "./metrics-text.js";
export * from "./redis-cluster.js";
export * from "./redis-server.js";
export * from "./system-tools.js";
