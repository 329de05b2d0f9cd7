import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MeshProcesses, startUp } from "../../test/e2e/mesh-processes.test-util.js";

/** The examples as a backend team runs them: built, as programs, against `prescient up`. */
const dist = (name: string) => fileURLToPath(new URL(`../dist/${name}.js`, import.meta.url));

function run(name: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile("node", [dist(name), ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    ),
  );
}

const lines = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("examples", () => {
  let mesh: MeshProcesses;
  beforeAll(async () => {
    mesh = await startUp();
  }, 90_000);
  afterAll(async () => mesh?.stop());

  it("ad server: ranks 200 ads with one LookupMany, scores the misses once, then hits them all", async () => {
    const r = await run("ad-server", "--addr", mesh.addr.cache, "--tenant", "ads");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [cold, warm] = lines(r.stdout);
    expect(cold).toMatchObject({ round: "cold", candidates: 200, hits: 0, misses: 200 });
    expect(warm).toMatchObject({ round: "warm", candidates: 200, hits: 200, misses: 0 });
    expect(warm.top).toEqual(cold.top);
    expect(cold.top).toHaveLength(3);
  });

  it("video upload: triggers video_uploaded, then reads every analysis as a hit", async () => {
    const r = await run("video-upload", "--addr", mesh.addr.cache, "--tenant", "videos", "--video", "vid-ci");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [upload, ...results] = lines(r.stdout);
    expect(upload).toMatchObject({ video: "vid-ci", queued: 6 });
    expect(results).toHaveLength(6);
    for (const x of results) expect(x.outcome).toBe("hit");
    expect(results.find((x) => x.key === "videos/ctr_prediction/vid-ci")).toMatchObject({
      kind: "tensors",
      model: "ctr_prediction",
    });
  });
});
