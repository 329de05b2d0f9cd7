import { readFileSync } from "node:fs";
import { type Mesh, startMesh } from "@prescient/cli";
import { createClient, isUnavailable, type PrescientClient } from "@prescient/client";
import { type CertFiles, freePort, TestPki } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctrFeatures } from "./ctr-features.test-util.js";

/**
 * The split shape over mTLS, in one test process: the cache in one mesh, the
 * executor and predictor in another, every server requiring client
 * certificates from the mesh's CA and every internal client presenting its
 * service's. A computed miss crosses client → cache → executor → predictor
 * (the executor's own server), each hop a mutual TLS handshake.
 */

const pki = new TestPki();
let ca: CertFiles;
let backend: CertFiles;
const meshes: Mesh[] = [];
const clients: PrescientClient[] = [];
let cacheAddress = "";
let cacheName = "";

const tlsEnv = (service: CertFiles): NodeJS.ProcessEnv => ({
  PRESCIENT_TLS_CERT: service.cert,
  PRESCIENT_TLS_KEY: service.key,
  PRESCIENT_TLS_CLIENT_CA: ca.cert,
  PRESCIENT_TLS_CA: ca.cert,
});

beforeAll(async () => {
  ca = pki.authority("mesh-ca");
  backend = pki.issue(ca, "backend", { altNames: "DNS:backend" });
  // Fixed ports, as each mesh names the other: the executor writes its results into the cache.
  const cachePort = await freePort();
  cacheAddress = `127.0.0.1:${cachePort}`;
  // Peers and clients dial by name: Node 24+ refuses a TLS server name that is an IP address.
  cacheName = `localhost:${cachePort}`;
  const base = {
    ...process.env,
    REDIS_URL: "",
    PRESCIENT_METRICS_PORT: "0",
    PRESCIENT_CACHE_ADDR: cacheName,
  };
  const executor = await startMesh({
    services: ["executor", "predictor"],
    address: "127.0.0.1:0",
    env: { ...base, ...tlsEnv(pki.issue(ca, "executor")) },
  });
  meshes.push(executor);
  await executor.ready;
  const cache = await startMesh({
    services: ["cache"],
    address: cacheAddress,
    env: {
      ...base,
      ...tlsEnv(pki.issue(ca, "cache")),
      PRESCIENT_EXECUTOR_ADDR: executor.host.address.replace(/^127\.0\.0\.1:/, "localhost:"),
    },
  });
  meshes.push(cache);
  await cache.ready;
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  for (const m of meshes.reverse()) await m.close();
});

function client(tls: { ca: Buffer; cert?: Buffer; key?: Buffer } | false): PrescientClient {
  const c = createClient({ address: cacheName, tls, deadlineMs: 10_000, retry: false });
  clients.push(c);
  return c;
}

describe("the split shape over mTLS", () => {
  it("computes a miss through a remote executor and predictor", async () => {
    const c = client({
      ca: readFileSync(ca.cert),
      cert: readFileSync(backend.cert),
      key: readFileSync(backend.key),
    });
    const r = await c.lookup("acme/ctr_prediction/mtls-ad", { onMiss: "compute", features: ctrFeatures });
    expect(r).toMatchObject({ outcome: "miss", computed: true, value: { kind: "tensors" } });
  });

  it("refuses a backend without a client certificate, and one in plaintext", async () => {
    for (const tls of [{ ca: readFileSync(ca.cert) }, false as const]) {
      const error = await client(tls)
        .lookup("acme/ctr_prediction/mtls-ad")
        .catch((e: unknown) => e);
      expect(isUnavailable(error)).toBe(true);
    }
  });
});
