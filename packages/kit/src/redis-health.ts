import type { Logger } from "./logger.js";
import type { ServiceHost } from "./service-host.js";

/** The part of an ioredis client (Redis or Cluster) the watcher needs. */
export interface RedisConnectionLike {
  readonly status: string;
  on(event: "ready" | "close" | "end", listener: () => void): unknown;
  off(event: "ready" | "close" | "end", listener: () => void): unknown;
  ping(): Promise<unknown>;
}

export interface RedisHealthOptions {
  /** How often a ready connection is PINGed; 0 turns the PING off. Default 5000 ms. */
  pingIntervalMs: number;
  /** A PING slower than this counts as down. Default 2000 ms. */
  pingTimeoutMs: number;
  logger: Logger | undefined;
}

const defaults: RedisHealthOptions = { pingIntervalMs: 5000, pingTimeoutMs: 2000, logger: undefined };

/**
 * Ties services' readiness to a Redis connection: they turn NOT_SERVING as
 * soon as ioredis reports the connection closed, and SERVING again when it is
 * ready. Events catch a killed or restarted Redis at once; the PING catches
 * what sends no event (a partition, a Redis stuck in a long script), which
 * would otherwise leave a dead connection looking "ready" until TCP gives up.
 * Returns a function that stops watching; the host's shutdown also stops it.
 */
export function watchRedisHealth(
  host: ServiceHost,
  services: readonly string[],
  client: RedisConnectionLike,
  options?: Partial<RedisHealthOptions>,
): () => void {
  const o = { ...defaults, ...options };
  let connected = client.status === "ready";
  let pingOk = true;
  let reported: boolean | undefined;
  let stopped = false;
  const report = (): void => {
    if (stopped) return;
    const up = connected && pingOk;
    if (up === reported) return;
    const first = reported === undefined;
    reported = up;
    for (const s of services) host.setDependency(s, "redis", up);
    if (first) return;
    if (up) o.logger?.info({ services }, "redis is back: serving");
    else o.logger?.warn({ services }, "redis is down: NOT_SERVING until it returns");
  };
  const onReady = (): void => {
    connected = true;
    pingOk = true;
    report();
  };
  const onClose = (): void => {
    connected = false;
    report();
  };
  client.on("ready", onReady);
  client.on("close", onClose);
  client.on("end", onClose);
  report();

  let pinging = false;
  const timer =
    o.pingIntervalMs > 0
      ? setInterval(() => {
          if (pinging || !connected) return;
          pinging = true;
          let t: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            t = setTimeout(() => reject(new Error("PING timed out")), o.pingTimeoutMs);
          });
          Promise.race([client.ping(), timeout])
            .then(
              () => {
                pingOk = true;
              },
              () => {
                pingOk = false;
              },
            )
            .finally(() => {
              clearTimeout(t);
              pinging = false;
              report();
            });
        }, o.pingIntervalMs)
      : undefined;
  timer?.unref();

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (timer !== undefined) clearInterval(timer);
    client.off("ready", onReady);
    client.off("close", onClose);
    client.off("end", onClose);
  };
  host.onShutdown(stop);
  return stop;
}
