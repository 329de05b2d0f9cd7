import { type Clock, errorMessage } from "@prescient/core";
import type { Logger } from "pino";

/**
 * Logs a recurring failure at most once per interval, with how many were
 * suppressed since: a dead store fails every lookup, and one line per
 * lookup would bury the log and cost more than the lookup itself.
 */
export class RateLimitedLog {
  #last = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(
    private readonly logger: Logger | undefined,
    private readonly clock: Clock,
    private readonly intervalMs = 10_000,
  ) {}

  warn(err: unknown, message: string, context: Record<string, unknown> = {}): void {
    const now = this.clock.now();
    if (now - this.#last < this.intervalMs) {
      this.#suppressed++;
      return;
    }
    this.#last = now;
    this.logger?.warn({ ...context, err: errorMessage(err), suppressed: this.#suppressed }, message);
    this.#suppressed = 0;
  }
}
