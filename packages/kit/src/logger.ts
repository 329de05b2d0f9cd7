import { createRequire } from "node:module";
import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/** The levels LOG_LEVEL accepts (config.ts validates it against these). */
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export type LogLevel = (typeof logLevels)[number];

const isLogLevel = (value: string | undefined): value is LogLevel =>
  (logLevels as readonly (string | undefined)[]).includes(value);

let root: Logger | undefined;

/**
 * The process's root logger, level from LOG_LEVEL (default info): JSON lines
 * on stdout, except on a terminal, where a person reads them, which gets
 * pino-pretty's one-line-per-event colour output. Piped, in CI or in a
 * container, stdout is no TTY, so log collectors keep getting JSON.
 *
 * An invalid LOG_LEVEL falls back to info here rather than throwing: module
 * loggers are made at import time, before the CLI has validated its
 * configuration, and the validation (commonEnvShape) is what reports it, as
 * one line, instead of a stack trace from inside pino.
 */
export function rootLogger(): Logger {
  if (root) return root;
  const options = {
    level: isLogLevel(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : "info",
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  root = process.stdout.isTTY ? pino(options, prettyStream()) : pino(options);
  return root;
}

/** A child logger tagged with the component that writes through it. */
export function createLogger(component: string): Logger {
  return rootLogger().child({ component });
}

/**
 * pino-pretty as an in-process stream, loaded only on a terminal so that
 * servers never pay for it. Synchronous, unlike a transport's worker thread,
 * so the last lines before `process.exit()` (a failed start, a drain) are
 * not lost.
 */
function prettyStream(): DestinationStream {
  const pretty = createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");
  return pretty.build({
    sync: true,
    colorize: true,
    singleLine: true,
    translateTime: "SYS:HH:MM:ss.l",
    // `component` leads the message instead, the way a reader scans a mesh's log.
    ignore: "pid,hostname,component",
    messageFormat: "{if component}[{component}] {end}{msg}",
  });
}
