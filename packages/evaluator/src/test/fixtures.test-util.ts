import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The shared traces: `../shared/traces` from the repository root (CI), else /work/shared/traces. */
const repoRoot = resolve(fileURLToPath(new URL("../../../..", import.meta.url)));
export const sharedTraces = [join(repoRoot, "../shared/traces"), "/work/shared/traces"].find((d) =>
  existsSync(join(d, "block_traces_1.csv")),
);
export const sharedTraceNote = `shared traces not found at ${join(repoRoot, "../shared/traces")}: skipping`;

const dir = mkdtempSync(join(tmpdir(), "evaluator-test-"));
let n = 0;
/** Writes a temporary trace file and returns its path. */
export function traceFile(text: string, ext = "csv"): string {
  const path = join(dir, `t${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}
