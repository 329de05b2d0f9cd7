export * from "./grpc-error.js";
export * from "./redis-server.js";
