import { type Logger, pino } from "pino";

export type { Logger } from "pino";

let root: Logger | undefined;

/** The process's root logger: JSON lines on stdout, level from LOG_LEVEL. */
export function rootLogger(): Logger {
  root ??= pino({
    level: process.env.LOG_LEVEL ?? "info",
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  return root;
}

/** A child logger tagged with the component that writes through it. */
export function createLogger(component: string): Logger {
  return rootLogger().child({ component });
}
