import type { Clock } from "@prescient/core";
import type { PrecomputerLog } from "./ports.js";

/**
 * Logs a warning at most once a minute per topic: while a peer is down every
 * trigger and tick fails the same way, and one line each would flood the log.
 */
export class RareWarnings {
  readonly #lastWarned = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly log: PrecomputerLog,
  ) {}

  warn(topic: string, obj: object, msg: string): void {
    const now = this.clock.now();
    const last = this.#lastWarned.get(topic);
    if (last !== undefined && now - last < 60_000) return;
    this.#lastWarned.set(topic, now);
    this.log.warn(obj, msg);
  }
}
