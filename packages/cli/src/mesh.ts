import { startCache } from "@prescient/cache";
import { predictorOptionsFromEnv, startPredictor } from "@prescient/predictor";
import { defaultTaskTypesPath, loadTaskTypes, type TaskTypeRegistry } from "@prescient/core";
import { type CommonEnv, createLogger, loadCommonEnv, ServiceHost, startMetricsServer } from "@prescient/kit";
import { shutdownTracing } from "@prescient/tracing";
import { grpcServiceOf, type ServiceName } from "./services.js";

export interface MeshOptions {
  /** Services this process runs. */
  services: readonly ServiceName[];
  /** Overrides PRESCIENT_ADDR. */
  address?: string;
  /** Overrides REDIS_URL; unset means in-memory stores. */
  redisUrl?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Mesh {
  host: ServiceHost;
  env: CommonEnv;
  taskTypes: TaskTypeRegistry;
  /** Resolves when every service this process implements reports SERVING. */
  ready: Promise<void>;
  close(): Promise<void>;
}

const log = createLogger("mesh");

/**
 * Starts the given services on one gRPC server. Configuration is validated
 * before anything binds, so a bad variable fails fast with its name.
 */
export async function startMesh(options: MeshOptions): Promise<Mesh> {
  const env = loadCommonEnv(options.env ?? process.env);
  const address = options.address ?? env.PRESCIENT_ADDR;
  const redisUrl = options.redisUrl ?? env.REDIS_URL;
  const taskTypes = loadTaskTypes(env.PRESCIENT_TASK_TYPES ?? defaultTaskTypesPath);
  const host = new ServiceHost({
    address,
    maxMessageBytes: env.PRESCIENT_MAX_MESSAGE_BYTES,
    drainTimeoutMs: env.PRESCIENT_DRAIN_TIMEOUT_MS,
  });

  // Registered first so it runs last: spans of the drain itself still get flushed.
  host.onShutdown(() => shutdownTracing());

  const warmups: Promise<unknown>[] = [];
  for (const service of options.services) {
    switch (service) {
      case "cache":
        warmups.push(
          startCache(host, {
            taskTypes,
            store: redisUrl === undefined ? "memory" : { redisUrl },
            env: options.env ?? process.env,
          }),
        );
        break;
      case "predictor":
        warmups.push(startPredictor(host, predictorOptionsFromEnv(options.env ?? process.env)).ready);
        break;
      default:
        // Not implemented yet: it reports NOT_SERVING on health rather than pretending.
        for (const name of grpcServiceOf[service]) host.declareUnimplemented(name);
    }
  }

  await host.start();
  const metrics =
    env.PRESCIENT_METRICS_PORT > 0
      ? await startMetricsServer(env.PRESCIENT_METRICS_PORT, env.PRESCIENT_METRICS_HOST)
      : undefined;
  if (metrics) host.onShutdown(() => metrics.close());

  const ready = Promise.all(warmups).then(() => {
    log.info({ address: host.address, store: redisUrl === undefined ? "memory" : "redis" }, "mesh ready");
  });
  ready.catch((err: unknown) => log.error({ err }, "a service failed to start"));
  return { host, env, taskTypes, ready, close: () => host.shutdown() };
}
