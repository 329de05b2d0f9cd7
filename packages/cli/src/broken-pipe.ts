/** Whether an error is a write to a pipe whose reader has gone, as in `prescient ... | head`. */
export function isBrokenPipe(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as NodeJS.ErrnoException).code === "EPIPE";
}

/**
 * Ends the process quietly, with code 0, when the reader of stdout goes away:
 * a reader that stops early (`| head`) has what it asked for, as with any
 * Unix tool. Node ignores SIGPIPE, so without this the next write fails with
 * an unhandled 'error' event: a stack trace and code 1. Other errors still
 * crash, as they would without the listener.
 */
export function exitQuietlyOnBrokenPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on("error", (err: Error) => {
    if (isBrokenPipe(err)) process.exit(0);
    throw err;
  });
}
