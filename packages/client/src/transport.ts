import { Channel, type ChannelCredentials, credentials, Metadata } from "@grpc/grpc-js";
import type { ResolvedClientOptions, RetryOptions, ServiceRole } from "./options.js";

/** The proto services behind each role, named in the retry policy. */
const servicesOf: Record<ServiceRole, string[]> = {
  cache: ["prescient.cache.v1.CacheService"],
  precomputer: ["prescient.precomputer.v1.PrecomputerService"],
  executor: ["prescient.executor.v1.ExecutorService"],
  predictor: ["inference.GRPCInferenceService", "prescient.predictor.v1.ModelRepositoryService"],
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)}s`;

/**
 * The gRPC service config every channel carries: round robin, so a DNS name
 * with many A records (a headless service) spreads calls over all its pods,
 * and retries on UNAVAILABLE only, which is safe because the server refused
 * the call before doing anything.
 */
export function serviceConfig(retry: RetryOptions | false): string {
  return JSON.stringify({
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig:
      retry === false
        ? []
        : [
            {
              name: Object.values(servicesOf)
                .flat()
                .map((service) => ({ service })),
              retryPolicy: {
                maxAttempts: retry.maxAttempts,
                initialBackoff: seconds(retry.initialBackoffMs),
                maxBackoff: seconds(retry.maxBackoffMs),
                backoffMultiplier: retry.backoffMultiplier,
                retryableStatusCodes: ["UNAVAILABLE"],
              },
            },
          ],
  });
}

function channelCredentials(tls: ResolvedClientOptions["tls"]): ChannelCredentials {
  if (tls === false) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  return credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/**
 * One channel per distinct address, shared by every service client that
 * talks to it, so a backend holds one connection pool however many calls
 * it makes.
 */
export class Transport {
  readonly #channels = new Map<string, Channel>();
  readonly #credentials: ChannelCredentials;

  constructor(readonly options: ResolvedClientOptions) {
    this.#credentials = channelCredentials(options.tls);
  }

  get credentials(): ChannelCredentials {
    return this.#credentials;
  }

  addressOf(role: ServiceRole): string {
    return this.options.services[role] ?? this.options.address;
  }

  channel(role: ServiceRole): Channel {
    const address = this.addressOf(role);
    let channel = this.#channels.get(address);
    if (channel === undefined) {
      channel = new Channel(address, this.#credentials, {
        "grpc.service_config": serviceConfig(this.options.retry),
        "grpc.enable_retries": this.options.retry === false ? 0 : 1,
        "grpc.keepalive_time_ms": this.options.keepaliveMs,
        "grpc.keepalive_permit_without_calls": 1,
        "grpc.max_receive_message_length": this.options.maxMessageBytes,
        "grpc.max_send_message_length": this.options.maxMessageBytes,
        "grpc.primary_user_agent": "prescient-client-node",
      });
      this.#channels.set(address, channel);
    }
    return channel;
  }

  /** Metadata for one call: the bearer token, when there is one. */
  metadata(): Metadata {
    const m = new Metadata();
    if (this.options.token !== undefined) m.set("authorization", `Bearer ${this.options.token}`);
    return m;
  }

  close(): void {
    for (const c of this.#channels.values()) c.close();
    this.#channels.clear();
  }
}
