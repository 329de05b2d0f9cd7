/** Where the analyzer's core reports what it did; a pino logger fits. */
export interface AnalyzerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The log of an analyzer given none. */
export const silentLog: AnalyzerLog = { info: () => undefined, warn: () => undefined };
