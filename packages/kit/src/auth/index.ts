export * from "./auth-config.js";
export * from "./authenticator.js";
export * from "./enforce.js";
export * from "./jwt.js";
export * from "./peer-token.js";
export * from "./principal.js";
export * from "./rpc-policy.js";
export * from "./token-file.js";
