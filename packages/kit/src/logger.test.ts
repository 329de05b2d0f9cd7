import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** Whether stdout is a terminal is fixed per process, so each case runs the built logger in a child. */
const built = fileURLToPath(new URL("../dist/logger.js", import.meta.url));
const script = `const { createLogger } = await import(process.argv[1]);
createLogger("demo").info({ answer: 42 }, "hello");
createLogger("demo").debug("hidden at info");`;

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      command,
      args,
      { timeout: 20_000, env: { ...process.env, LOG_LEVEL: "info", ...env } },
      (e, out) => (e ? reject(e) : resolve(out)),
    ),
  );
}

describe("the root logger", () => {
  it("writes JSON lines when stdout is not a terminal (piped, CI, Kubernetes)", async () => {
    expect(existsSync(built), `${built} is missing: run npm run build`).toBe(true);
    const out = await run("node", ["--input-type=module", "-e", script, built]);
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: 30,
      component: "demo",
      answer: 42,
      msg: "hello",
    });
  });

  it("falls back to info on an invalid LOG_LEVEL rather than throwing at import (the CLI's validation names it)", async () => {
    const out = await run("node", ["--input-type=module", "-e", script, built], { LOG_LEVEL: "loud" });
    expect(JSON.parse(out.trim())).toMatchObject({ msg: "hello" });
  });

  // util-linux's `script` gives the child a terminal.
  it.skipIf(!existsSync("/usr/bin/script"))("pretty-prints on a terminal, one line per event", async () => {
    const quoted = `node --input-type=module -e '${script.replaceAll("'", "'\\''")}' ${built}`;
    const out = await run("/usr/bin/script", ["-qec", quoted, "/dev/null"]);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colours' escape sequences.
    const plain = out.replace(/\u001b\[[0-9;]*m/g, "").trim();
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[demo\] hello \{"answer":42\}$/);
  });
});
