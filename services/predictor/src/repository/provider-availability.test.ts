import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { providerUnavailable } from "./provider-availability.js";

const built = fileURLToPath(new URL("../../dist/repository/execution-providers.js", import.meta.url));
const model = fileURLToPath(new URL("../../models/ctr_prediction/1/model.onnx", import.meta.url));

/**
 * Native code writes to the process's stderr directly, past any logger and
 * past vitest's capture, so the check runs in a child process of its own.
 */
const script = `
import { readFileSync } from "node:fs";
const { createSessions } = await import(process.argv[1]);
const warnings = [];
const log = { warn: (obj, msg) => warnings.push(msg) };
const started = await createSessions(readFileSync(process.argv[2]),
  { providers: ["cuda", "webgpu", "cpu"], fallback: true, threading: { intraOpThreads: 1, interOpThreads: 1, executionMode: "sequential", intraOpSpinning: false }, instances: 1, inWorkers: false }, log, "ctr");
await Promise.all(started.sessions.map((s) => s.release()));
process.stdout.write(JSON.stringify({ provider: started.provider, warnings }));
`;

describe("execution provider availability", () => {
  it("never doubts cpu", () => {
    expect(providerUnavailable("cpu")).toBeUndefined();
  });

  it.skipIf(providerUnavailable("cuda") === undefined || providerUnavailable("webgpu") === undefined)(
    "falls back past providers this machine lacks without native noise on stderr",
    async () => {
      expect(existsSync(built), `${built} is missing: run npm run build`).toBe(true);
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
        execFile(
          "node",
          ["--input-type=module", "-e", script, built, model],
          { timeout: 20_000 },
          (error, out, err) => (error ? reject(error) : resolve({ stdout: out, stderr: err })),
        ),
      );
      expect(stderr).toBe("");
      const result = JSON.parse(stdout) as { provider: string; warnings: string[] };
      expect(result.provider).toBe("cpu");
      expect(result.warnings).toEqual([
        "execution provider failed to start; falling back",
        "execution provider failed to start; falling back",
        "running on a fallback execution provider",
      ]);
    },
  );
});
