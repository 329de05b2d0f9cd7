import { existsSync } from "node:fs";
import {
  type ChannelOptions,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { descriptorSetPath } from "@prescient/contracts";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import { createLogger, type Logger } from "./logger.js";
import { DescriptorReflection } from "./reflection.js";

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
}

const defaults = (): ServiceHostOptions => ({
  address: "127.0.0.1:50051",
  maxMessageBytes: 16 * 1024 * 1024,
  drainTimeoutMs: 10_000,
  descriptorSetPath,
  logger: createLogger("host"),
});

type Hook = () => Promise<void> | void;

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
  readonly #shutdownHooks: Hook[] = [];
  #port: number | undefined;
  #closing: Promise<void> | undefined;

  constructor(options?: Partial<ServiceHostOptions>) {
    this.options = { ...defaults(), ...options };
    const channelOptions: ChannelOptions = {
      "grpc.max_receive_message_length": this.options.maxMessageBytes,
      "grpc.max_send_message_length": this.options.maxMessageBytes,
      "grpc.keepalive_permit_without_calls": 1,
    };
    this.server = new Server(channelOptions);
    this.health = new HealthImplementation({ "": "NOT_SERVING" });
    this.health.addToServer(this.server);
  }

  /** Registers a service; it reports NOT_SERVING until `setServing(name, true)`. */
  addService(
    fullName: string,
    definition: ServiceDefinition,
    implementation: UntypedServiceImplementation,
  ): void {
    this.server.addService(definition, implementation);
    this.#setStatus(fullName, "NOT_SERVING");
  }

  setServing(fullName: string, serving: boolean): void {
    if (this.#closing !== undefined) return;
    this.#setStatus(fullName, serving ? "SERVING" : "NOT_SERVING");
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
    this.#port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(this.options.address, ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.options.logger.info({ address: this.address, services: [...this.#services.keys()] }, "listening");
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
    for (const hook of [...this.#shutdownHooks].reverse()) {
      try {
        await hook();
      } catch (err) {
        this.options.logger.error({ err }, "shutdown hook failed");
      }
    }
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
