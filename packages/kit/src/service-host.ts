import { existsSync } from "node:fs";
import {
  type ChannelOptions,
  Server,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { descriptorSetPath } from "@prescient/contracts";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import type { Authenticator } from "./auth/authenticator.js";
import { guardService } from "./auth/enforce.js";
import { ContractTypes } from "./contract-types.js";
import { createLogger, type Logger } from "./logger.js";
import { DescriptorReflection } from "./reflection.js";
import { SlicedDecoder, type SlicedDecoderOptions } from "./sliced-decode.js";
import { sliceRequestDecoding } from "./sliced-requests.js";
import { serverCredentials } from "./tls.js";
import type { ServerTls } from "./tls-config.js";

export interface ServiceHostOptions {
  /** host:port to bind. Default 127.0.0.1:50051; port 0 picks a free one. */
  address: string;
  /** Largest message received or sent, bytes. Default 16 MiB. */
  maxMessageBytes: number;
  /** How long shutdown waits for in-flight calls before forcing. Default 10 s. */
  drainTimeoutMs: number;
  /** Descriptor set served by reflection. Default: the one `buf build` wrote into @prescient/contracts. */
  descriptorSetPath: string;
  logger: Logger;
  /** Certificate, key and (for mTLS) client CA, reloaded as they change. Default none: plaintext. */
  tls: ServerTls | undefined;
  /**
   * A second, plaintext port serving only grpc.health.v1, for the kubelet's
   * gRPC probes, which cannot do TLS. Default none.
   */
  healthAddress: string | undefined;
  /**
   * Checks every call's bearer token against the RPC table (auth/rpc-policy.ts)
   * before its handler runs. Default none: every call is let in.
   */
  auth: Authenticator | undefined;
  /**
   * How unary requests are decoded: up to `inlineBytes` in one call, larger
   * ones in slices of at most `sliceMs` with yields between, so no single
   * request holds the event loop (see SlicedDecoder). Default 64 KiB and 8 ms.
   * Needs the descriptor set; without it grpc-js decodes as usual.
   */
  decoding: Partial<SlicedDecoderOptions>;
}

const defaults = (): ServiceHostOptions => ({
  address: "127.0.0.1:50051",
  maxMessageBytes: 16 * 1024 * 1024,
  drainTimeoutMs: 10_000,
  descriptorSetPath,
  logger: createLogger("host"),
  tls: undefined,
  healthAddress: undefined,
  auth: undefined,
  decoding: {},
});

type Hook = () => Promise<void> | void;

/**
 * Health service name that answers SERVING for as long as the process answers
 * gRPC at all, draining included. Liveness probes ask this one, so a pod whose
 * store is down (readiness: NOT_SERVING) is taken out of rotation but not
 * restarted: a restart would not bring Redis back.
 */
export const livenessServiceName = "liveness";

/**
 * One gRPC server carrying one or more prescient services, with per-service
 * health (NOT_SERVING while warming up or draining), reflection from the exact
 * descriptor set, message-size limits, and a draining shutdown.
 */
export class ServiceHost {
  readonly options: ServiceHostOptions;
  readonly server: Server;
  readonly health: HealthImplementation;
  readonly #services = new Map<string, ServingStatus>();
  /** What each service last said with setServing, before its dependencies are considered. */
  readonly #wanted = new Map<string, boolean>();
  /** Dependencies (e.g. "redis") each service has marked down. */
  readonly #down = new Map<string, Set<string>>();
  readonly #shutdownHooks: Hook[] = [];
  #port: number | undefined;
  #closing: Promise<void> | undefined;
  readonly #types: ContractTypes | undefined;
  readonly #decoder: SlicedDecoder;

  constructor(options?: Partial<ServiceHostOptions>) {
    this.options = { ...defaults(), ...options };
    const channelOptions: ChannelOptions = {
      "grpc.max_receive_message_length": this.options.maxMessageBytes,
      "grpc.max_send_message_length": this.options.maxMessageBytes,
      "grpc.keepalive_permit_without_calls": 1,
    };
    this.server = new Server(channelOptions);
    this.#types = ContractTypes.at(this.options.descriptorSetPath);
    this.#decoder = new SlicedDecoder(this.#types?.codecOf ?? (() => undefined), this.options.decoding);
    this.health = new HealthImplementation({ "": "NOT_SERVING", [livenessServiceName]: "SERVING" });
    this.health.addToServer(this.server);
  }

  /**
   * Registers a service; it reports NOT_SERVING until `setServing(name, true)`.
   * With auth on, every method is guarded here, the one place every service
   * passes through; a method missing from the RPC table throws.
   */
  addService(
    fullName: string,
    definition: ServiceDefinition,
    implementation: UntypedServiceImplementation,
  ): void {
    const { auth } = this.options;
    const guarded = auth === undefined ? implementation : guardService(definition, implementation, auth);
    const sliced =
      this.#types === undefined
        ? { definition, implementation: guarded }
        : sliceRequestDecoding(definition, guarded, this.#types, this.#decoder);
    this.server.addService(sliced.definition, sliced.implementation);
    this.#wanted.set(fullName, false);
    this.#update(fullName);
  }

  setServing(fullName: string, serving: boolean): void {
    if (this.#closing !== undefined) return;
    this.#wanted.set(fullName, serving);
    this.#update(fullName);
  }

  /**
   * Marks a dependency of a service (its Redis, say) up or down. The service
   * reports SERVING only while it said so with setServing and none of its
   * dependencies is down, so an outage drops readiness without losing the
   * fact that warm-up finished.
   */
  setDependency(fullName: string, dependency: string, up: boolean): void {
    if (this.#closing !== undefined) return;
    let down = this.#down.get(fullName);
    if (down === undefined) {
      down = new Set();
      this.#down.set(fullName, down);
    }
    if (up) down.delete(dependency);
    else down.add(dependency);
    this.#update(fullName);
  }

  /** Dependencies of a service that are down now. */
  downDependencies(fullName: string): string[] {
    return [...(this.#down.get(fullName) ?? [])];
  }

  servingStatus(fullName: string): ServingStatus | undefined {
    return this.#services.get(fullName);
  }

  /** Runs after the server has drained, in reverse order of registration. */
  onShutdown(hook: Hook): void {
    this.#shutdownHooks.push(hook);
  }

  get port(): number {
    if (this.#port === undefined) throw new Error("ServiceHost has not started");
    return this.#port;
  }

  get address(): string {
    const host = this.options.address.slice(0, this.options.address.lastIndexOf(":"));
    return `${host}:${this.port}`;
  }

  async start(): Promise<number> {
    if (existsSync(this.options.descriptorSetPath)) {
      const reflection = DescriptorReflection.fromFile(this.options.descriptorSetPath);
      reflection.addToServer(this.server, () => [...this.#services.keys()]);
    } else {
      this.options.logger.warn(
        { path: this.options.descriptorSetPath },
        "no descriptor set: reflection is off",
      );
    }
    const { address, tls, logger, auth } = this.options;
    // Loopback is this machine's own business (`prescient up` on a laptop); anything wider is a network's.
    const authHint = "PRESCIENT_AUTH_TOKENS_FILE or PRESCIENT_AUTH_JWKS_FILE";
    if (!isLoopback(address) && tls === undefined)
      logger.warn(
        { address, auth: auth !== undefined },
        `listening without TLS on a non-loopback address: set PRESCIENT_TLS_CERT and PRESCIENT_TLS_KEY${
          auth === undefined ? `, and turn auth on with ${authHint}` : ""
        }`,
      );
    else if (!isLoopback(address) && auth === undefined)
      logger.warn({ address }, `listening without auth on a non-loopback address: set ${authHint}`);
    const { credentials, loaded } = serverCredentials(tls);
    this.#port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port))),
    );
    await loaded;
    if (this.options.healthAddress !== undefined) await this.#startHealthPort(this.options.healthAddress);
    const security = tls === undefined ? "plaintext" : tls.clientCaFile === undefined ? "tls" : "mtls";
    logger.info(
      { address: this.address, security, auth: auth !== undefined, services: [...this.#services.keys()] },
      "listening",
    );
    return this.#port;
  }

  /**
   * Drains: every service turns NOT_SERVING (so load balancers stop sending),
   * in-flight calls finish under `drainTimeoutMs` via tryShutdown, and only
   * past that limit are the rest cancelled. Then the shutdown hooks run.
   */
  shutdown(): Promise<void> {
    this.#closing ??= this.#drain();
    return this.#closing;
  }

  /** SIGTERM and SIGINT drain the host, then exit. */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      this.options.logger.info({ signal }, "draining");
      this.shutdown().then(
        () => exit(0),
        (err: unknown) => {
          this.options.logger.error({ err }, "shutdown failed");
          exit(1);
        },
      );
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }

  #healthServer: Server | undefined;

  async #startHealthPort(address: string): Promise<void> {
    const server = new Server();
    this.health.addToServer(server);
    this.#healthServer = server;
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, serverCredentials(undefined).credentials, (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
  }

  async #drain(): Promise<void> {
    for (const name of this.#services.keys()) this.health.setStatus(name, "NOT_SERVING");
    this.health.setStatus("", "NOT_SERVING");
    if (this.#port !== undefined) {
      const drained = new Promise<boolean>((resolve) => this.server.tryShutdown(() => resolve(true)));
      const timeout = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), this.options.drainTimeoutMs);
        t.unref();
      });
      if (!(await Promise.race([drained, timeout]))) {
        this.options.logger.warn(
          { timeoutMs: this.options.drainTimeoutMs },
          "drain timed out; cancelling calls",
        );
        this.server.forceShutdown();
      }
    }
    // Probes answer (NOT_SERVING) until the main server has drained.
    this.#healthServer?.forceShutdown();
    for (const hook of [...this.#shutdownHooks].reverse()) {
      try {
        await hook();
      } catch (err) {
        this.options.logger.error({ err }, "shutdown hook failed");
      }
    }
  }

  #update(name: string): void {
    const serving = this.#wanted.get(name) === true && (this.#down.get(name)?.size ?? 0) === 0;
    this.#setStatus(name, serving ? "SERVING" : "NOT_SERVING");
  }

  #setStatus(name: string, value: ServingStatus): void {
    this.#services.set(name, value);
    this.health.setStatus(name, value);
    // The process as a whole serves when every service it implements does.
    const all = [...this.#services.values()];
    const overall = all.length > 0 && all.every((s) => s === "SERVING");
    this.health.setStatus("", overall ? "SERVING" : "NOT_SERVING");
  }
}

/** Whether `host:port` binds only this machine: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
