import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError, intFromEnv } from "../config.js";
import type { Logger } from "../logger.js";
import { Authenticator } from "./authenticator.js";
import { parseJwks } from "./jwt.js";
import { usePeerToken } from "./peer-token.js";
import { ReloadingFile } from "./reloading-file.js";
import { parseTokenFile } from "./token-file.js";

/** A file that exists and parses, so a bad Secret mount fails at start-up naming its variable. */
const parsedFile = (parse: (text: string) => unknown) =>
  z
    .string()
    .min(1)
    .superRefine((path, ctx) => {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        ctx.addIssue({ code: "custom", message: `cannot read the file${code ? ` (${code})` : ""}` });
        return;
      }
      try {
        parse(text);
      } catch (e) {
        ctx.addIssue({ code: "custom", message: (e as Error).message });
      }
    });

const peerTokenOf = (text: string): string => {
  const token = text.trim();
  if (!/^\S{16,}$/.test(token)) throw new Error("expected one token of at least 16 characters, no spaces");
  return token;
};

/**
 * The auth variables. Every one unset (the default) turns auth off, as
 * `prescient up` on loopback wants; either file turns it on.
 */
export const authEnvShape = {
  /** Hashed tokens with their role and tenants (token-file.ts): turns auth on. */
  PRESCIENT_AUTH_TOKENS_FILE: parsedFile(parseTokenFile).optional(),
  /** A JWKS whose RS256/ES256 keys sign accepted JWTs: turns auth on. */
  PRESCIENT_AUTH_JWKS_FILE: parsedFile(parseJwks).optional(),
  /** `iss` every JWT must carry; unchecked when unset. */
  PRESCIENT_AUTH_JWT_ISSUER: z.string().min(1).optional(),
  /** Audience every JWT's `aud` must include; unchecked when unset. */
  PRESCIENT_AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  /**
   * The token this process calls its peers with, and accepts from them as an
   * admin of every tenant. Needed in the split shape with auth on; `up`
   * makes one up when unset.
   */
  PRESCIENT_AUTH_PEER_TOKEN_FILE: parsedFile(peerTokenOf).optional(),
  /** How often the auth files' mtimes are looked at, ms. */
  PRESCIENT_AUTH_RELOAD_MS: intFromEnv(100, 3_600_000).default(5_000),
};

export type AuthEnv = z.infer<z.ZodObject<typeof authEnvShape>>;

export interface AuthConfig {
  tokensFile: string | undefined;
  jwksFile: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  peerTokenFile: string | undefined;
  reloadMs: number;
}

/** The auth settings; JWT checks without a JWKS are refused rather than silently unused. */
export function authConfigFrom(env: AuthEnv): AuthConfig {
  for (const name of ["PRESCIENT_AUTH_JWT_ISSUER", "PRESCIENT_AUTH_JWT_AUDIENCE"] as const)
    if (env[name] !== undefined && env.PRESCIENT_AUTH_JWKS_FILE === undefined)
      throw new ConfigError(
        `invalid configuration: ${name} (${JSON.stringify(env[name])}): needs PRESCIENT_AUTH_JWKS_FILE`,
      );
  return {
    tokensFile: env.PRESCIENT_AUTH_TOKENS_FILE,
    jwksFile: env.PRESCIENT_AUTH_JWKS_FILE,
    jwtIssuer: env.PRESCIENT_AUTH_JWT_ISSUER,
    jwtAudience: env.PRESCIENT_AUTH_JWT_AUDIENCE,
    peerTokenFile: env.PRESCIENT_AUTH_PEER_TOKEN_FILE,
    reloadMs: env.PRESCIENT_AUTH_RELOAD_MS,
  };
}

export const authEnabled = (config: AuthConfig): boolean =>
  config.tokensFile !== undefined || config.jwksFile !== undefined;

/**
 * Sets up both sides of auth for this process: the token its peer clients
 * send, and (when auth is on) the Authenticator its ServiceHost enforces.
 * With auth on and no peer-token file, a random peer token is made: enough
 * for `prescient up`, where every peer is this process; a split mesh needs
 * the same PRESCIENT_AUTH_PEER_TOKEN_FILE in every process.
 */
export function setUpAuth(config: AuthConfig, logger?: Logger): Authenticator | undefined {
  let peerToken: () => string | undefined;
  if (config.peerTokenFile !== undefined) {
    const file = new ReloadingFile(config.peerTokenFile, peerTokenOf, {
      checkIntervalMs: config.reloadMs,
      logger,
    });
    peerToken = () => file.value;
  } else if (authEnabled(config)) {
    const token = randomBytes(32).toString("base64url");
    peerToken = () => token;
  } else {
    peerToken = () => undefined;
  }
  usePeerToken(peerToken);
  if (!authEnabled(config)) return undefined;
  return new Authenticator({
    tokensFile: config.tokensFile,
    jwksFile: config.jwksFile,
    jwt: { issuer: config.jwtIssuer, audience: config.jwtAudience, clockSkewS: 30 },
    peerToken,
    checkIntervalMs: config.reloadMs,
    logger,
  });
}
