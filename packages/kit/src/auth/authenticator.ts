import { timingSafeEqual } from "node:crypto";
import type { Metadata } from "@grpc/grpc-js";
import { UnauthenticatedError } from "@prescient/core";
import type { Logger } from "../logger.js";
import { isJwtShaped, type JwkSet, type JwtChecks, parseJwks, verifyJwt } from "./jwt.js";
import type { Principal } from "./principal.js";
import { ReloadingFile } from "./reloading-file.js";
import { hashToken, parseTokenFile } from "./token-file.js";

export interface AuthenticatorOptions {
  /** Tokens file (hashed tokens with role and tenants, token-file.ts). Default none. */
  tokensFile: string | undefined;
  /** JWKS file whose keys sign accepted JWTs. Default none. */
  jwksFile: string | undefined;
  /** Issuer/audience the JWTs must carry, and the clock skew allowed. Default: unchecked, 30 s. */
  jwt: JwtChecks;
  /**
   * The token this mesh's own services call each other with: accepted as an
   * admin of every tenant. A function so that a rotated peer-token file is
   * seen. Default none.
   */
  peerToken: () => string | undefined;
  /** How often the files' mtimes are looked at, ms. Default 5 s. */
  checkIntervalMs: number;
  logger: Logger | undefined;
}

const peerPrincipal: Principal = { name: "peer", role: "admin", tenants: "*" };

/** Turns a call's `authorization: Bearer <token>` into a Principal, or throws UnauthenticatedError. */
export class Authenticator {
  readonly #tokens: ReloadingFile<Map<string, Principal>> | undefined;
  readonly #jwks: ReloadingFile<JwkSet> | undefined;
  readonly #jwt: JwtChecks;
  readonly #peerToken: () => string | undefined;

  /** Reads the files now, so a missing or broken one fails the start, not the first call. */
  constructor(options: Partial<AuthenticatorOptions>) {
    const fileOptions = { checkIntervalMs: options.checkIntervalMs ?? 5_000, logger: options.logger };
    const { tokensFile, jwksFile } = options;
    if (tokensFile === undefined && jwksFile === undefined)
      throw new Error("auth needs a tokens file or a JWKS file");
    this.#tokens =
      tokensFile === undefined ? undefined : new ReloadingFile(tokensFile, parseTokenFile, fileOptions);
    this.#jwks = jwksFile === undefined ? undefined : new ReloadingFile(jwksFile, parseJwks, fileOptions);
    this.#jwt = options.jwt ?? { issuer: undefined, audience: undefined, clockSkewS: 30 };
    this.#peerToken = options.peerToken ?? (() => undefined);
  }

  authenticate(metadata: Metadata): Principal {
    const token = bearerToken(metadata);
    const peer = this.#peerToken();
    if (peer !== undefined && sameSecret(token, peer)) return peerPrincipal;
    if (this.#jwks !== undefined && isJwtShaped(token)) return verifyJwt(token, this.#jwks.value, this.#jwt);
    const principal = this.#tokens?.value.get(hashToken(token));
    if (principal === undefined) throw new UnauthenticatedError("the bearer token is not known");
    return principal;
  }
}

/** The token of `authorization: Bearer <token>`; UnauthenticatedError when there is none. */
export function bearerToken(metadata: Metadata): string {
  const values = metadata.get("authorization");
  if (values.length === 0) throw new UnauthenticatedError("no token: send authorization: Bearer <token>");
  if (values.length > 1) throw new UnauthenticatedError("more than one authorization header");
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(String(values[0]));
  if (match?.[1] === undefined)
    throw new UnauthenticatedError("the authorization header is not Bearer <token>");
  return match[1];
}

/** Constant-time comparison, so the peer token cannot be guessed byte by byte from timings. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(hashToken(a));
  const y = Buffer.from(hashToken(b));
  return timingSafeEqual(x, y);
}
