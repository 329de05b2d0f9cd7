import { Command } from "commander";
import { vi } from "vitest";
import { registerReplay } from "./replay.js";

/** Runs `prescient replay` in process with these arguments, capturing its output and exit code. */
export async function runReplay(
  ...args: string[]
): Promise<{ stdout: string; stderr: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((c) => out.push(String(c)) > 0);
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((c) => err.push(String(c)) > 0);
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    const program = new Command().exitOverride();
    registerReplay(program);
    await program.parseAsync(["replay", ...args], { from: "user" });
    return { stdout: out.join(""), stderr: err.join(""), code: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
