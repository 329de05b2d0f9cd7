import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The real traces the tests read, kept in test/traces with their source and licence (README.md there). */
export const testTraces = resolve(fileURLToPath(new URL("../../../../test/traces", import.meta.url)));

const dir = mkdtempSync(join(tmpdir(), "evaluator-test-"));
let n = 0;
/** Writes a temporary trace file and returns its path. */
export function traceFile(text: string, ext = "csv"): string {
  const path = join(dir, `t${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}
