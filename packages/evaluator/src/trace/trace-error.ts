import { InvalidArgumentError } from "@prescient/core";

/** A malformed trace line: names the file and the line, so the user can go and look. */
export class TraceFormatError extends InvalidArgumentError {
  readonly line: number;

  constructor(source: string, line: number, reason: string) {
    super(`${source}:${line}: ${reason}`);
    this.line = line;
  }
}

export const isTraceFormatError = (e: unknown): e is TraceFormatError => e instanceof TraceFormatError;
