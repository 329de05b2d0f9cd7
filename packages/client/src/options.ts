import { InvalidArgumentError } from "@prescient/core";

/** Services a backend calls; each may live at its own address (the split, Kubernetes shape). */
export type ServiceRole = "cache" | "precomputer" | "executor" | "predictor";

/** Retries of a call the server could not take (UNAVAILABLE), with exponential backoff. */
export interface RetryOptions {
  /** Attempts in all, the first included (gRPC caps it at 5). Default 4. */
  maxAttempts: number;
  /** Backoff before the first retry, ms; gRPC jitters each wait. Default 100. */
  initialBackoffMs: number;
  /** Longest backoff, ms. Default 2,000. */
  maxBackoffMs: number;
  /** Growth of the backoff per retry. Default 2. */
  backoffMultiplier: number;
}

/** TLS for the channel: the server's CA, and a client certificate and key for mTLS. */
export interface TlsOptions {
  /** PEM roots to trust; the system's when unset. */
  ca?: Buffer;
  /** PEM client certificate chain, for mTLS (with key). */
  cert?: Buffer;
  /** PEM client private key, for mTLS (with cert). */
  key?: Buffer;
}

export interface ClientOptions {
  /**
   * Where prescient listens: `host:port`, or `dns:///name:port` for a
   * Kubernetes headless service, whose pods the channel spreads calls over
   * (round robin over every address DNS returns). Default `127.0.0.1:50051`,
   * where `prescient up` listens.
   */
  address: string;
  /** Per-service addresses that override `address`, for a mesh split into one service per process. Default none. */
  services: Partial<Record<ServiceRole, string>>;
  /** TLS: `true` trusts the system roots; an object names the CA and, for mTLS, the client pair. Default `false` (plaintext). */
  tls: boolean | TlsOptions;
  /** Sent as `authorization: Bearer <token>` on every call. Default none. */
  token: string | undefined;
  /** Deadline of every call, ms, retries included; a call may pass its own. Default 5,000. */
  deadlineMs: number;
  /** Retries on UNAVAILABLE, or `false` for none. Defaults in RetryOptions. */
  retry: Partial<RetryOptions> | false;
  /** Interval of keepalive pings on an idle channel, ms. Default 30,000. */
  keepaliveMs: number;
  /** Largest message either way, bytes. Default 16 MiB, as the services. */
  maxMessageBytes: number;
}

export const retryDefaults: RetryOptions = {
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 2_000,
  backoffMultiplier: 2,
};

const defaults: Omit<ClientOptions, "retry"> & { retry: RetryOptions } = {
  address: "127.0.0.1:50051",
  services: {},
  tls: false,
  token: undefined,
  deadlineMs: 5_000,
  retry: retryDefaults,
  keepaliveMs: 30_000,
  maxMessageBytes: 16 * 1024 * 1024,
};

export interface ResolvedClientOptions extends Omit<ClientOptions, "retry"> {
  retry: RetryOptions | false;
}

/** Applies the defaults in one place and refuses settings that cannot work. */
export function resolveClientOptions(options: Partial<ClientOptions> = {}): ResolvedClientOptions {
  const retry = options.retry === false ? false : { ...defaults.retry, ...options.retry };
  const o: ResolvedClientOptions = { ...defaults, ...options, retry };
  if (o.address === "") throw new InvalidArgumentError("address is empty");
  positive("deadlineMs", o.deadlineMs);
  positive("keepaliveMs", o.keepaliveMs);
  positive("maxMessageBytes", o.maxMessageBytes);
  if (retry !== false) {
    if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1 || retry.maxAttempts > 5)
      throw new InvalidArgumentError("retry.maxAttempts must be an integer from 1 to 5");
    positive("retry.initialBackoffMs", retry.initialBackoffMs);
    positive("retry.maxBackoffMs", retry.maxBackoffMs);
    if (!(retry.backoffMultiplier >= 1))
      throw new InvalidArgumentError("retry.backoffMultiplier must be at least 1");
  }
  if (o.token !== undefined && (o.token === "" || /[\r\n]/.test(o.token)))
    throw new InvalidArgumentError("token must be non-empty and on one line");
  return o;
}

function positive(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new InvalidArgumentError(`${name} must be a positive number`);
}
