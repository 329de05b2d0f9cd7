import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** `--name value` from the command line, or the default. */
export function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? (process.argv[i + 1] as string) : fallback;
}

/**
 * Runs `body` when the module is the program (not when a test imports it),
 * and turns a failure into one line on stderr and exit code 1.
 */
export async function main(moduleUrl: string, body: () => Promise<void>): Promise<void> {
  const entry = process.argv[1];
  if (entry === undefined || realpathSync(entry) !== realpathSync(fileURLToPath(moduleUrl))) return;
  try {
    await body();
  } catch (e) {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
