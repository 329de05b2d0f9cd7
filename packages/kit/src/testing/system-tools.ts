import { spawnSync } from "node:child_process";

/** Whether CI is set (CI=true, 1, yes...), as CI services set it. */
export const inCi = !["", "0", "false", "no"].includes((process.env.CI ?? "").trim().toLowerCase());

/** A command-line tool some tests need besides redis-server, and whether they run here. */
export interface SystemTool {
  /** The command answered its version probe. */
  available: boolean;
  /** Whether the tests that need it run: where it is available, and always in CI. */
  runTests: boolean;
  /** What is missing and how to install it, for skip notices and failures. */
  missing: string;
}

const notified = new Set<string>();

/**
 * Probes `command` (run with `probeArgs`, which must exit 0; `what` names it
 * in messages, by default "the <command> command"). The README
 * promises that `npm test` passes with redis-server alone: tests that need
 * another tool (zstd, promtool, a Prometheus) skip without it, with one line
 * on stderr saying so. In CI they run anyway and fail, since `.ci/run`
 * installs every tool and a suite that silently stops testing protects
 * nothing.
 */
export function systemTool(
  command: string,
  install: string,
  probeArgs: readonly string[] = ["--version"],
  what = `the ${command} command`,
): SystemTool {
  const probe = spawnSync(command, probeArgs, { stdio: "ignore", timeout: 10_000 });
  const available = probe.error === undefined && probe.status === 0;
  const missing = `${what} is not available (${install})`;
  if (!available && !notified.has(what)) {
    notified.add(what);
    process.stderr.write(
      inCi
        ? `CI is set, so the tests that need ${what} run and fail: ${missing}\n`
        : `skipping the tests that need ${what}: ${missing}\n`,
    );
  }
  return { available, runTests: available || inCi, missing };
}
