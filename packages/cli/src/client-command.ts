import { errorMessage, isDomainError } from "@prescient/core";
import { isGrpcError, statusName } from "@prescient/kit";
import { type Command, InvalidArgumentError as UsageError } from "commander";
import { isBrokenPipe } from "./broken-pipe.js";

/** Flags every client command takes. */
export interface ClientFlags {
  addr: string;
  json: boolean;
  timeout: number;
}

/** Adds --addr, --timeout and (unless the command uses --json for input) the --json output flag. */
export function withClientFlags(
  command: Command,
  options: { jsonFlag: boolean } = { jsonFlag: true },
): Command {
  command
    .option("--addr <host:port>", "address of the mesh or service", "127.0.0.1:50051")
    .option("--timeout <ms>", "deadline of each call", parsePositiveInt, 10_000);
  return options.jsonFlag ? command.option("--json", "print JSON", false) : command;
}

export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`expected a positive integer, got ${text}`);
  return n;
}

export function parsePositiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`expected a positive number, got ${text}`);
  return n;
}

/** Runs a client action and turns failures into one readable line and exit code 1. */
export async function runClient(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    // A file argument such as /dev/stdout whose reader left (`| head`): as quiet as stdout itself (broken-pipe.ts).
    if (isBrokenPipe(e)) return;
    if (isGrpcError(e)) {
      process.stderr.write(`error: ${statusName(e.code)}: ${e.details}\n`);
    } else if (isDomainError(e)) {
      process.stderr.write(`error: ${e.message}\n`);
    } else {
      process.stderr.write(`error: ${errorMessage(e)}\n`);
    }
    process.exitCode = 1;
  }
}
