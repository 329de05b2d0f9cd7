import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { isUnauthenticated } from "@prescient/core";
import { afterAll, describe, expect, it } from "vitest";
import { Authenticator } from "./authenticator.js";
import { parseJwks, verifyJwt } from "./jwt.js";
import { hashToken } from "./token-file.js";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });

const jwks = JSON.stringify({
  keys: [
    { ...rsa.publicKey.export({ format: "jwk" }), kid: "rsa-1", alg: "RS256", use: "sig" },
    { ...ec.publicKey.export({ format: "jwk" }), kid: "ec-1" },
  ],
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = Math.floor(Date.now() / 1000);

function jwt(
  claims: Record<string, unknown>,
  options: { alg?: "RS256" | "ES256"; kid?: string; key?: KeyObject } = {},
): string {
  const alg = options.alg ?? "RS256";
  const key = options.key ?? (alg === "RS256" ? rsa.privateKey : ec.privateKey);
  const head = `${b64({ alg, typ: "JWT", kid: options.kid ?? (alg === "RS256" ? "rsa-1" : "ec-1") })}.${b64(claims)}`;
  const signature = sign(
    "sha256",
    Buffer.from(head),
    alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key,
  );
  return `${head}.${signature.toString("base64url")}`;
}

const good = {
  sub: "ci",
  role: "writer",
  tenants: ["acme"],
  iss: "https://idp",
  aud: "prescient",
  exp: now + 600,
};
const checks = { issuer: "https://idp", audience: "prescient", clockSkewS: 30 };
const keys = parseJwks(jwks);

const failure = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(isUnauthenticated(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected UnauthenticatedError");
};

describe("JWTs against a JWKS", () => {
  it("accepts valid RS256 and ES256 tokens and reads role and tenants", () => {
    expect(verifyJwt(jwt(good), keys, checks)).toEqual({ name: "ci", role: "writer", tenants: ["acme"] });
    expect(
      verifyJwt(jwt({ ...good, tenants: "*", aud: ["x", "prescient"] }, { alg: "ES256" }), keys, checks),
    ).toEqual({ name: "ci", role: "writer", tenants: "*" });
  });

  it("refuses expired, not-yet-valid, wrongly signed, wrong-audience and wrong-issuer tokens", () => {
    expect(failure(() => verifyJwt(jwt({ ...good, exp: now - 120 }), keys, checks))).toMatch(/expired/);
    expect(failure(() => verifyJwt(jwt({ ...good, nbf: now + 120 }), keys, checks))).toMatch(/not valid yet/);
    expect(failure(() => verifyJwt(jwt(good, { key: stranger.privateKey }), keys, checks))).toMatch(
      /signature/,
    );
    expect(failure(() => verifyJwt(jwt({ ...good, aud: "other" }), keys, checks))).toMatch(/audience/);
    expect(failure(() => verifyJwt(jwt({ ...good, iss: "https://evil" }), keys, checks))).toMatch(/issuer/);
    expect(failure(() => verifyJwt(jwt({ ...good, role: "root" }), keys, checks))).toMatch(/role/);
    // A tampered payload under the original signature.
    const [h, , s] = jwt(good).split(".");
    expect(failure(() => verifyJwt(`${h}.${b64({ ...good, role: "admin" })}.${s}`, keys, checks))).toMatch(
      /signature/,
    );
  });

  it("never accepts alg none or HS256", () => {
    const none = `${b64({ alg: "none" })}.${b64(good)}.`;
    expect(failure(() => verifyJwt(none, keys, checks))).toMatch(/algorithm/);
    const hs = `${b64({ alg: "HS256" })}.${b64(good)}.c2ln`;
    expect(failure(() => verifyJwt(hs, keys, checks))).toMatch(/algorithm/);
  });
});

describe("the Authenticator", () => {
  const dir = mkdtempSync(join(tmpdir(), "prescient-jwt-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const metadata = (token: string) => {
    const m = new Metadata();
    m.set("authorization", `Bearer ${token}`);
    return m;
  };

  it("takes JWTs and hashed tokens side by side, and sees a changed tokens file", () => {
    const jwksFile = join(dir, "jwks.json");
    const tokensFile = join(dir, "tokens.json");
    writeFileSync(jwksFile, jwks);
    const entry = (token: string, role: string) => ({
      hash: hashToken(token),
      name: token,
      role,
      tenants: "*",
    });
    writeFileSync(tokensFile, JSON.stringify({ tokens: [entry("first-token-123456", "reader")] }));
    const auth = new Authenticator({ tokensFile, jwksFile, jwt: checks, checkIntervalMs: 0 });
    expect(auth.authenticate(metadata(jwt(good))).role).toBe("writer");
    expect(auth.authenticate(metadata("first-token-123456")).role).toBe("reader");
    expect(failure(() => auth.authenticate(metadata(jwt({ ...good, exp: now - 120 }))))).toMatch(/expired/);
    expect(failure(() => auth.authenticate(new Metadata()))).toMatch(/no token/);

    writeFileSync(tokensFile, JSON.stringify([entry("second-token-123456", "admin")]));
    utimesSync(tokensFile, new Date(), new Date(Date.now() + 10_000));
    expect(auth.authenticate(metadata("second-token-123456")).role).toBe("admin");
    expect(failure(() => auth.authenticate(metadata("first-token-123456")))).toMatch(/not known/);

    // A broken edit keeps the last good file rather than locking everyone out.
    writeFileSync(tokensFile, "{ not json");
    utimesSync(tokensFile, new Date(), new Date(Date.now() + 20_000));
    expect(auth.authenticate(metadata("second-token-123456")).role).toBe("admin");
  });
});
