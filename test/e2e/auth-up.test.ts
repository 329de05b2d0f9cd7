import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Mesh, startMesh } from "@prescient/cli";
import { createClient, isPermissionDenied, type PrescientClient } from "@prescient/client";
import { hashToken } from "@prescient/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctrFeatures } from "./ctr-features.test-util.js";
import { cli } from "./mesh-processes.test-util.js";

/**
 * `prescient up` with auth on and no peer-token file: the process makes up
 * its own peer token, so the executor's calls to its own predictor pass.
 */
const writerToken = "writer-token-acme-0123456789";
const readerToken = "reader-token-acme-0123456789";
const adminToken = "admin-token-all-0123456789";
let dir = "";
let mesh: Mesh | undefined;
const clients: PrescientClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prescient-auth-up-"));
  const tokensFile = join(dir, "tokens.jsonl");
  writeFileSync(
    tokensFile,
    [
      { hash: hashToken(writerToken), name: "app", role: "writer", tenants: ["acme"] },
      { hash: hashToken(readerToken), name: "viewer", role: "reader", tenants: ["acme"] },
      { hash: hashToken(adminToken), name: "ops", role: "admin", tenants: "*" },
    ]
      .map((e) => JSON.stringify(e))
      .join("\n"),
  );
  mesh = await startMesh({
    services: ["cache", "executor", "predictor", "analyzer", "precomputer"],
    address: "127.0.0.1:0",
    env: {
      ...process.env,
      REDIS_URL: "",
      PRESCIENT_METRICS_PORT: "0",
      PRESCIENT_AUTH_TOKENS_FILE: tokensFile,
    },
  });
  await mesh.ready;
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await mesh?.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = (token: string): PrescientClient => {
  const c = createClient({ address: mesh?.host.address ?? "", token, deadlineMs: 10_000, retry: false });
  clients.push(c);
  return c;
};

describe("prescient up with auth on", () => {
  it("computes a miss with the made-up peer token, and keeps a reader from writing", async () => {
    const r = await client(readerToken).lookup("acme/ctr_prediction/up-ad", {
      onMiss: "compute",
      features: ctrFeatures,
    });
    expect(r).toMatchObject({ outcome: "miss", computed: true });
    const e = await client(readerToken)
      .invalidate({ tenant: "acme", taskType: "ctr_prediction" })
      .catch((x: unknown) => x);
    expect(isPermissionDenied(e)).toBe(true);
  });

  it("is driven by `replay --live` with the operator's token, and refuses it without one", async () => {
    const trace = join(dir, "trace.csv");
    writeFileSync(
      trace,
      "ts,key\n0,acme/dashboard_data/u1\n1,acme/dashboard_data/u1\n2,acme/dashboard_data/u2\n",
    );
    const replay = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          "node",
          [
            cli,
            "replay",
            trace,
            "--live",
            "--speed",
            "10",
            "--no-progress",
            "--json",
            "--addr",
            mesh?.host.address ?? "",
          ],
          { env: { ...process.env, ...env }, timeout: 30_000 },
          (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
        ),
      );
    const refused = await replay({});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UNAUTHENTICATED|token/i);
    const ok = await replay({ PRESCIENT_TOKEN: adminToken });
    expect(ok.stderr).not.toMatch(/error/i);
    expect(ok.code).toBe(0);
    const live = (JSON.parse(ok.stdout) as { live: { lookups: { answered: number; errors: number } } }).live;
    expect(live.lookups).toMatchObject({ answered: 3, errors: 0 });
  }, 60_000);
});
