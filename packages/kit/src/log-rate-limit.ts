/**
 * Lets one log line through per interval and counts the rest, so that a
 * burst of the same event (clients dropping streams, a peer flapping) costs
 * one line, and the next line still says how many were left out.
 */
export class LogRateLimit {
  readonly #intervalMs: number;
  readonly #now: () => number;
  #last = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Undefined when this event should not be logged; otherwise how many were suppressed since the last line. */
  take(): { suppressed: number } | undefined {
    const now = this.#now();
    if (now - this.#last < this.#intervalMs) {
      this.#suppressed++;
      return undefined;
    }
    this.#last = now;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return { suppressed };
  }
}
