import { Command } from "commander";
import { vi } from "vitest";

export interface CommandRun {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs a `prescient` command in this process: `register` adds it to a fresh
 * program, which parses `args`; its output and exit code are captured.
 */
export async function runCommand(
  register: (program: Command) => void,
  args: readonly string[],
): Promise<CommandRun> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((c) => out.push(String(c)) > 0);
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((c) => err.push(String(c)) > 0);
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync([...args], { from: "user" });
    return { stdout: out.join(""), stderr: err.join(""), code: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
