import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { UnauthenticatedError } from "@prescient/core";
import { isRole, type Principal, type TenantGrant } from "./principal.js";

/** What a JWT must satisfy beyond its signature. */
export interface JwtChecks {
  /** Required `iss`; unchecked when unset. */
  issuer: string | undefined;
  /** Required in `aud` (a string or a list); unchecked when unset. */
  audience: string | undefined;
  /** Allowed clock difference for exp and nbf, seconds. Default 30. */
  clockSkewS: number;
}

interface Jwk {
  kid?: string;
  kty?: string;
  alg?: string;
  use?: string;
  [k: string]: unknown;
}

/** The keys of a JWKS file, by kid (a key without one is tried for any token). */
export interface JwkSet {
  keys: { kid: string | undefined; alg: "RS256" | "ES256"; key: KeyObject }[];
}

const algOf = (jwk: Jwk): "RS256" | "ES256" | undefined => {
  if (jwk.alg === "RS256" || jwk.alg === "ES256") return jwk.alg;
  if (jwk.alg !== undefined) return undefined;
  if (jwk.kty === "RSA") return "RS256";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  return undefined;
};

/** Parses a JWKS document (`{"keys": [...]}`); keys of other algorithms or for encryption are skipped. */
export function parseJwks(text: string): JwkSet {
  const doc = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(doc.keys)) throw new Error('expected a JWKS document: {"keys": [...]}');
  const keys: JwkSet["keys"] = [];
  for (const jwk of doc.keys as Jwk[]) {
    const alg = algOf(jwk);
    if (alg === undefined || jwk.use === "enc") continue;
    // Only the public half is used, even when a private JWK was mounted by mistake.
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
    keys.push({ kid: jwk.kid, alg, key: createPublicKey({ key: pub as never, format: "jwk" }) });
  }
  if (keys.length === 0) throw new Error("the JWKS has no RS256 or ES256 signing key");
  return { keys };
}

const decodeJson = (part: string, what: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error();
    return value as Record<string, unknown>;
  } catch {
    throw new UnauthenticatedError(`malformed JWT ${what}`);
  }
};

/** Looks like a compact JWS: three base64url parts. */
export const isJwtShaped = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);

/**
 * Verifies a compact JWT against the key set and the checks, and reads its
 * principal: `sub` (or `name`) names it, `role` is reader/writer/admin and
 * `tenants` is `*` or a list of strings. Throws UnauthenticatedError saying
 * what failed; never accepts `alg: none` or an HMAC algorithm, so a public
 * key cannot be used as a shared secret.
 */
export function verifyJwt(token: string, jwks: JwkSet, checks: JwtChecks, nowMs = Date.now()): Principal {
  const [h = "", p = "", s = ""] = token.split(".");
  const header = decodeJson(h, "header");
  const alg = header.alg;
  if (alg !== "RS256" && alg !== "ES256")
    throw new UnauthenticatedError(`JWT algorithm ${String(alg)} is not accepted`);
  const kid = typeof header.kid === "string" ? header.kid : undefined;
  const candidates = jwks.keys.filter(
    (k) => k.alg === alg && (kid === undefined || k.kid === undefined || k.kid === kid),
  );
  if (candidates.length === 0)
    throw new UnauthenticatedError("no key in the JWKS matches the JWT's kid and alg");
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, "base64url");
  const ok = candidates.some(({ key }) =>
    // JWS ES256 signatures are r||s, not DER.
    verify("sha256", data, alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key, signature),
  );
  if (!ok) throw new UnauthenticatedError("JWT signature does not verify");
  const claims = decodeJson(p, "payload");
  const now = nowMs / 1000;
  if (typeof claims.exp === "number" && now > claims.exp + checks.clockSkewS)
    throw new UnauthenticatedError("JWT expired");
  if (typeof claims.nbf === "number" && now < claims.nbf - checks.clockSkewS)
    throw new UnauthenticatedError("JWT not valid yet");
  if (checks.issuer !== undefined && claims.iss !== checks.issuer)
    throw new UnauthenticatedError("JWT issuer is not the one configured");
  if (checks.audience !== undefined) {
    const aud = claims.aud;
    const auds = Array.isArray(aud) ? aud : [aud];
    if (!auds.includes(checks.audience))
      throw new UnauthenticatedError("JWT audience does not include this mesh");
  }
  const role = claims.role;
  if (!isRole(role)) throw new UnauthenticatedError("JWT has no valid role claim (reader, writer or admin)");
  const tenants = claims.tenants;
  let grant: TenantGrant;
  if (tenants === "*") grant = "*";
  else if (Array.isArray(tenants) && tenants.every((t) => typeof t === "string" && t !== "")) grant = tenants;
  else throw new UnauthenticatedError('JWT has no valid tenants claim ("*" or a list of tenants)');
  const name =
    typeof claims.sub === "string" ? claims.sub : typeof claims.name === "string" ? claims.name : "jwt";
  return { name, role, tenants: grant };
}
