import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Mesh, startMesh } from "@prescient/cli";
import { createClient, isPermissionDenied, isUnauthenticated, type PrescientClient } from "@prescient/client";
import { hashToken } from "@prescient/kit";
import { freePort } from "@prescient/kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctrFeatures } from "./ctr-features.test-util.js";

/**
 * The split shape with auth on, in one test process: the cache in one mesh,
 * the executor and predictor in another, each checking every call's token.
 * A computed miss crosses client → cache → executor → predictor (and the
 * executor writes the result back into the cache), every internal hop with
 * the shared peer token from PRESCIENT_AUTH_PEER_TOKEN_FILE.
 */

const readerToken = "reader-token-acme-0123456789";
const otherToken = "reader-token-other-0123456789";
let dir = "";
const meshes: Mesh[] = [];
const clients: PrescientClient[] = [];
let cacheAddress = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prescient-auth-mesh-"));
  const tokensFile = join(dir, "tokens.json");
  const peerTokenFile = join(dir, "peer-token");
  writeFileSync(
    tokensFile,
    JSON.stringify([
      { hash: hashToken(readerToken), name: "app", role: "reader", tenants: ["acme"] },
      { hash: hashToken(otherToken), name: "other-app", role: "reader", tenants: ["other"] },
    ]),
  );
  writeFileSync(peerTokenFile, "peer-token-shared-by-the-mesh-0123456789\n");
  cacheAddress = `127.0.0.1:${await freePort()}`;
  const base = {
    ...process.env,
    REDIS_URL: "",
    PRESCIENT_METRICS_PORT: "0",
    PRESCIENT_CACHE_ADDR: cacheAddress,
    PRESCIENT_AUTH_TOKENS_FILE: tokensFile,
    PRESCIENT_AUTH_PEER_TOKEN_FILE: peerTokenFile,
  };
  const executor = await startMesh({
    services: ["executor", "predictor"],
    address: "127.0.0.1:0",
    env: base,
  });
  meshes.push(executor);
  await executor.ready;
  const cache = await startMesh({
    services: ["cache"],
    address: cacheAddress,
    env: { ...base, PRESCIENT_EXECUTOR_ADDR: executor.host.address },
  });
  meshes.push(cache);
  await cache.ready;
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  for (const m of meshes.reverse()) await m.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(token: string | undefined): PrescientClient {
  const c = createClient({
    address: cacheAddress,
    deadlineMs: 10_000,
    retry: false,
    ...(token ? { token } : {}),
  });
  clients.push(c);
  return c;
}

describe("the split shape with auth on", () => {
  it("computes a miss through a remote executor and predictor with the peer token", async () => {
    const r = await client(readerToken).lookup("acme/ctr_prediction/auth-ad", {
      onMiss: "compute",
      features: ctrFeatures,
    });
    expect(r).toMatchObject({ outcome: "miss", computed: true, value: { kind: "tensors" } });
    // The executor's Put went through the cache's auth too: the result is there now.
    const again = await client(readerToken).lookup("acme/ctr_prediction/auth-ad");
    expect(again).toMatchObject({ outcome: "hit" });
  });

  it("refuses a client with no token, and one of another tenant", async () => {
    const none = await client(undefined)
      .lookup("acme/ctr_prediction/auth-ad")
      .catch((e: unknown) => e);
    expect(isUnauthenticated(none)).toBe(true);
    const other = await client(otherToken)
      .lookup("acme/ctr_prediction/auth-ad")
      .catch((e: unknown) => e);
    expect(isPermissionDenied(other)).toBe(true);
  });
});
