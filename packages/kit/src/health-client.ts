import { type Client, Metadata, makeClientConstructor, type ServiceDefinition } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { peerCredentials } from "./tls.js";

type HealthClient = Client & {
  check(
    request: { service: string },
    metadata: Metadata,
    options: { deadline: number },
    callback: (error: Error | null, response?: { status: string | number }) => void,
  ): void;
};

const HealthClientConstructor = makeClientConstructor(
  healthService as unknown as ServiceDefinition,
  "grpc.health.v1.Health",
);

const statusNames = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const;
export type HealthStatus = (typeof statusNames)[number] | "UNREACHABLE";

/** Asks `grpc.health.v1.Health/Check` for one service ("" for the whole process). */
export function checkHealth(address: string, service = "", timeoutMs = 2000): Promise<HealthStatus> {
  const client = new HealthClientConstructor(address, peerCredentials()) as unknown as HealthClient;
  return new Promise<HealthStatus>((resolve) => {
    client.check({ service }, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => {
      client.close();
      if (error) {
        resolve((error as { code?: number }).code === 5 ? "SERVICE_UNKNOWN" : "UNREACHABLE");
        return;
      }
      const s = response?.status;
      resolve(
        typeof s === "number"
          ? (statusNames[s] ?? "UNKNOWN")
          : ((s as HealthStatus | undefined) ?? "UNKNOWN"),
      );
    });
  });
}

/** Polls health until the service is SERVING, or throws after `timeoutMs`. */
export async function waitForServing(address: string, service = "", timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: HealthStatus = "UNREACHABLE";
  while (Date.now() < end) {
    last = await checkHealth(address, service, 1000);
    if (last === "SERVING") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${address} ${service || "(process)"} is ${last} after ${timeoutMs} ms`);
}
