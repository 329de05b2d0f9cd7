import { LogRateLimit } from "./log-rate-limit.js";
import { createLogger } from "./logger.js";

/** The part of an ioredis client that emits connection errors. */
export interface RedisErrorSource {
  on(event: "error", listener: (e: Error) => void): unknown;
}

const log = createLogger("redis");

/**
 * Connection errors of a Redis client. Without a listener ioredis prints
 * "Unhandled error event" for each reconnect attempt; the calls that need
 * Redis fail on their own (as UNAVAILABLE) and health reports the outage, so
 * one warn line per 30 s is enough here.
 */
export function watchRedisErrors(client: RedisErrorSource, name: string): void {
  const limit = new LogRateLimit(30_000);
  client.on("error", (e) => {
    const pass = limit.take();
    if (pass !== undefined)
      log.warn({ client: name, suppressed: pass.suppressed, err: e.message }, "redis connection error");
  });
}

const connectionFailure =
  /^(MaxRetriesPerRequestError)$|Connection is closed|enableOfflineQueue|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Command timed out/;

/**
 * A Redis call that failed because Redis could not be reached, not because
 * of a bug: such a call is UNAVAILABLE, which clients retry.
 */
export function isRedisUnavailable(e: unknown): boolean {
  return e instanceof Error && (connectionFailure.test(e.name) || connectionFailure.test(e.message));
}
