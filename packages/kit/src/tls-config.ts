import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { addressSchema, ConfigError, intFromEnv } from "./config.js";

/** The server's side: its certificate and key, and the CA its clients' certificates must chain to (mTLS). */
export interface ServerTls {
  certFile: string;
  keyFile: string;
  /** Set: every client must present a certificate signed by this CA (mTLS). Unset: TLS only. */
  clientCaFile: string | undefined;
  /** How often the files are read again, so a rotated Secret takes effect without a restart. */
  refreshIntervalMs: number;
}

/** How this process calls its peers (and itself, in `prescient up`). */
export interface PeerTls {
  /** Roots the peers' certificates must chain to; the system's when unset (and then read once). */
  caFile: string | undefined;
  /** This process's certificate and key, presented to peers that require mTLS; none when unset. */
  certFile: string | undefined;
  keyFile: string | undefined;
  refreshIntervalMs: number;
}

export interface TlsConfig {
  /** Unset: the server listens in plaintext. */
  server: ServerTls | undefined;
  /** Unset: peers are called in plaintext. */
  peer: PeerTls | undefined;
  /** A plaintext port with only grpc.health.v1, for probes that cannot do TLS (the kubelet's); none when unset. */
  healthAddress: string | undefined;
}

type PemKind = "certificate" | "private key";

/**
 * Reads a PEM file and says in a few words what is wrong with it, so a
 * missing or mistyped Secret mount fails at start-up, naming its variable,
 * rather than at the first handshake.
 */
function pemProblem(path: string, kind: PemKind): string | undefined {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `cannot read the file${code ? ` (${code})` : ""}`;
  }
  try {
    if (kind === "certificate") new X509Certificate(pem);
    else createPrivateKey(pem);
  } catch {
    return `not a PEM ${kind}`;
  }
  return undefined;
}

const pemFile = (kind: PemKind) =>
  z
    .string()
    .min(1)
    .superRefine((path, ctx) => {
      const problem = pemProblem(path, kind);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    });

/** The TLS variables. Every one unset (the default) means plaintext, as `prescient up` on loopback wants. */
export const tlsEnvShape = {
  /** The server's certificate chain (PEM). With PRESCIENT_TLS_KEY, turns TLS on. */
  PRESCIENT_TLS_CERT: pemFile("certificate").optional(),
  /** The server's private key (PEM); also the client key for peers that require mTLS. */
  PRESCIENT_TLS_KEY: pemFile("private key").optional(),
  /** CA bundle (PEM) the server requires client certificates to chain to: turns mTLS on. */
  PRESCIENT_TLS_CLIENT_CA: pemFile("certificate").optional(),
  /** CA bundle (PEM) the peers' certificates must chain to; turns TLS on for calls to peers. */
  PRESCIENT_TLS_CA: pemFile("certificate").optional(),
  /** How often the files are read again, ms. cert-manager and the kubelet update a Secret within about a minute. */
  PRESCIENT_TLS_REFRESH_MS: intFromEnv(100, 3_600_000).default(60_000),
  /** host:port of a plaintext port serving only health, for the kubelet's gRPC probes, which cannot do TLS. */
  PRESCIENT_HEALTH_ADDR: addressSchema.optional(),
};

export type TlsEnv = z.infer<z.ZodObject<typeof tlsEnvShape>>;

const invalid = (variable: string, value: string | undefined, problem: string): ConfigError =>
  new ConfigError(
    `invalid configuration: ${variable} (${value === undefined ? "unset" : JSON.stringify(value)}): ${problem}`,
  );

/**
 * The TLS settings from already parsed variables (each file exists and
 * parses), checked as a whole: a certificate needs its key and the key must
 * be the certificate's; mTLS needs TLS. Peers are called over TLS when this
 * process has a certificate (in `prescient up` the executor calls its own
 * server) or PRESCIENT_TLS_CA names roots to trust.
 */
export function tlsConfigFrom(env: TlsEnv): TlsConfig {
  const {
    PRESCIENT_TLS_CERT: certFile,
    PRESCIENT_TLS_KEY: keyFile,
    PRESCIENT_TLS_CLIENT_CA: clientCaFile,
    PRESCIENT_TLS_CA: caFile,
    PRESCIENT_TLS_REFRESH_MS: refreshIntervalMs,
  } = env;
  if (certFile !== undefined && keyFile === undefined)
    throw invalid("PRESCIENT_TLS_KEY", keyFile, "required with PRESCIENT_TLS_CERT");
  if (keyFile !== undefined && certFile === undefined)
    throw invalid("PRESCIENT_TLS_CERT", certFile, "required with PRESCIENT_TLS_KEY");
  if (clientCaFile !== undefined && certFile === undefined)
    throw invalid("PRESCIENT_TLS_CERT", certFile, "required with PRESCIENT_TLS_CLIENT_CA: mTLS needs TLS");
  if (certFile !== undefined && keyFile !== undefined) {
    const cert = new X509Certificate(readFileSync(certFile));
    if (!cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile))))
      throw invalid("PRESCIENT_TLS_KEY", keyFile, "is not the key of the certificate in PRESCIENT_TLS_CERT");
  }
  const server =
    certFile !== undefined && keyFile !== undefined
      ? { certFile, keyFile, clientCaFile, refreshIntervalMs }
      : undefined;
  const peer =
    certFile !== undefined || caFile !== undefined
      ? { caFile, certFile, keyFile, refreshIntervalMs }
      : undefined;
  return { server, peer, healthAddress: env.PRESCIENT_HEALTH_ADDR };
}
