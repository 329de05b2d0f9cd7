import { credentials } from "@grpc/grpc-js";
import { analyzerV1 } from "@prescient/contracts";
import { callUnary, clientChannelOptions, ServiceHost, usePeerTls } from "@prescient/kit";
import {
  type CertFiles,
  freePort,
  type RedisServerProcess,
  startRedisServer,
  TestPki,
} from "@prescient/kit/testing";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnalyzerMetrics } from "./metrics.js";
import { type AnalyzerRuntime, startAnalyzer } from "./start-analyzer.js";

/**
 * Under mTLS, replicas are called at their advertised pod IPs, which the
 * Service's certificate ("analyzer", as deploy/components/mtls issues it)
 * does not name: PRESCIENT_ANALYZER_RING_TLS_NAME makes the handshake check
 * that name instead. Without it every forward fails (and is handled locally).
 */
const pki = new TestPki();
let ca: CertFiles;
let cert: CertFiles;
let redis: RedisServerProcess;
const hosts: ServiceHost[] = [];

beforeAll(async () => {
  ca = pki.authority("ca");
  cert = pki.issue(ca, "analyzer", { altNames: "DNS:analyzer" });
  usePeerTls({ caFile: ca.cert, certFile: cert.cert, keyFile: cert.key, refreshIntervalMs: 60_000 });
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.shutdown()));
  usePeerTls(undefined);
  await redis?.stop();
});

async function replica(
  prefix: string,
  ringTlsName: string | undefined,
): Promise<{ address: string; runtime: AnalyzerRuntime }> {
  const port = await freePort();
  const host = new ServiceHost({
    address: `127.0.0.1:${port}`,
    logger: pino({ level: "silent" }),
    tls: { certFile: cert.cert, keyFile: cert.key, clientCaFile: ca.cert, refreshIntervalMs: 60_000 },
  });
  hosts.push(host);
  const runtime = await startAnalyzer(host, {
    store: { redisUrl: redis.url, keyPrefix: `${prefix}:{analyzer}:` },
    retrainIntervalMs: 0,
    cleanupIntervalMs: 0,
    ingestFlushIntervalMs: 0,
    advertiseAddress: `127.0.0.1:${port}`,
    ringHeartbeatMs: 100,
    ringTtlMs: 1000,
    ringTlsName,
    logger: pino({ level: "silent" }),
  });
  await host.start();
  await runtime.ready;
  return { address: host.address, runtime };
}

async function ringOf(prefix: string, name: string | undefined) {
  const pair = [await replica(prefix, name), await replica(prefix, name)];
  const end = Date.now() + 10_000;
  while (!pair.every((r) => r.runtime.ringMembers().length === 2)) {
    if (Date.now() > end) throw new Error("the ring did not form");
    await new Promise((r) => setTimeout(r, 20));
  }
  return pair;
}

/** Events of 20 tenants, so both replicas own some. */
async function send(address: string): Promise<void> {
  const client = new analyzerV1.AnalyzerServiceClient(
    address,
    credentials.createSsl(pki.read(ca.cert), pki.read(cert.key), pki.read(cert.cert)),
    { ...clientChannelOptions(), "grpc.ssl_target_name_override": "analyzer" },
  );
  const events = Array.from({ length: 20 }, (_, i) => ({
    time: new Date(Date.now() - 1000),
    tenant: `tenant-${i}`,
    taskType: "ctr_prediction",
    entityId: "ad-1",
    key: "",
    userId: "u1",
    outcome: 3,
    computeMs: 1,
    latencyMs: 1,
  }));
  try {
    const r = await callUnary(client.recordQueryBatch.bind(client), { events });
    expect(Number(r.accepted)).toBe(20);
  } finally {
    client.close();
  }
}

async function forwards(outcome: string): Promise<number> {
  const values = (await AnalyzerMetrics.for().forwards.get()).values;
  return values.filter((v) => v.labels.outcome === outcome).reduce((n, v) => n + v.value, 0);
}

describe("the analyzer ring under mTLS", () => {
  it("forwards to replicas at their pod IPs, checking the Service's name", { timeout: 60_000 }, async () => {
    const [a] = await ringOf("named", "analyzer");
    await send(a!.address);
    expect(await forwards("forwarded")).toBeGreaterThan(0);
    expect(await forwards("failed")).toBe(0);
  });

  it("fails every forward without the name (the handshake checks the IP), and handles them locally", {
    timeout: 60_000,
  }, async () => {
    const [a] = await ringOf("unnamed", undefined);
    const before = await forwards("forwarded");
    await send(a!.address);
    expect(await forwards("failed")).toBeGreaterThan(0);
    expect(await forwards("forwarded")).toBe(before);
  });
});
