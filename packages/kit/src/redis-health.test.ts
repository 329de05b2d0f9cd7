import { EventEmitter } from "node:events";
import { executorV1 } from "@prescient/contracts";
import { describe, expect, it } from "vitest";
import { checkHealth } from "./health-client.js";
import { type RedisConnectionLike, watchRedisHealth } from "./redis-health.js";
import { livenessServiceName, ServiceHost } from "./service-host.js";

const NAME = "prescient.executor.v1.ExecutorService";

/** Stands in for an ioredis client: tests emit its events and decide how PING answers. */
class FakeRedis extends EventEmitter implements RedisConnectionLike {
  status = "connecting";
  pingAnswer: () => Promise<unknown> = async () => "PONG";
  ping(): Promise<unknown> {
    return this.pingAnswer();
  }
}

function hostWith(): ServiceHost {
  const host = new ServiceHost({ address: "127.0.0.1:0" });
  host.addService(NAME, executorV1.ExecutorServiceService, {});
  return host;
}

const until = async (check: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

describe("ServiceHost dependencies and liveness", () => {
  it("serves only while the service is ready and no dependency is down; liveness stays SERVING", async () => {
    const host = hostWith();
    await host.start();
    host.setDependency(NAME, "redis", false);
    host.setServing(NAME, true);
    expect(host.servingStatus(NAME)).toBe("NOT_SERVING");
    host.setDependency(NAME, "redis", true);
    expect(host.servingStatus(NAME)).toBe("SERVING");
    host.setServing(NAME, false);
    expect(host.servingStatus(NAME)).toBe("NOT_SERVING");
    expect(await checkHealth(host.address, "")).toBe("NOT_SERVING");
    // Liveness is another name in the same health service and never follows readiness.
    expect(await checkHealth(host.address, livenessServiceName)).toBe("SERVING");
    await host.shutdown();
  });
});

describe("watchRedisHealth", () => {
  it("follows ready/close events", () => {
    const host = hostWith();
    const redis = new FakeRedis();
    const stop = watchRedisHealth(host, [NAME], redis, { pingIntervalMs: 0 });
    host.setServing(NAME, true);
    expect(host.servingStatus(NAME)).toBe("NOT_SERVING");
    redis.status = "ready";
    redis.emit("ready");
    expect(host.servingStatus(NAME)).toBe("SERVING");
    redis.emit("close");
    expect(host.servingStatus(NAME)).toBe("NOT_SERVING");
    redis.emit("ready");
    expect(host.servingStatus(NAME)).toBe("SERVING");
    stop();
    redis.emit("close");
    expect(host.servingStatus(NAME)).toBe("SERVING");
  });

  it("turns NOT_SERVING when PING hangs on a connection that still looks ready, and back when it answers", async () => {
    const host = hostWith();
    const redis = new FakeRedis();
    redis.status = "ready";
    const stop = watchRedisHealth(host, [NAME], redis, { pingIntervalMs: 20, pingTimeoutMs: 30 });
    host.setServing(NAME, true);
    expect(host.servingStatus(NAME)).toBe("SERVING");
    redis.pingAnswer = () => new Promise(() => undefined);
    await until(() => host.servingStatus(NAME) === "NOT_SERVING");
    expect(host.servingStatus(NAME)).toBe("NOT_SERVING");
    redis.pingAnswer = async () => "PONG";
    await until(() => host.servingStatus(NAME) === "SERVING");
    expect(host.servingStatus(NAME)).toBe("SERVING");
    stop();
  });
});
