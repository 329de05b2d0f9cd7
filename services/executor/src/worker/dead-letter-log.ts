import type { Logger } from "@prescient/kit";
import type { ClaimedTask, FailOutcome, TaskFailure } from "../queue/index.js";

/** Tasks named in one dead-letter line; the count covers the rest. */
const namedPerLine = 10;

/**
 * Logs at warn the tasks a batch's failures dead-lettered: a dead letter is
 * work that will not happen until someone requeues it, which an operator
 * should hear of without polling `prescient dlq list`. Retries stay silent
 * (they are routine, and the next attempt may succeed). One line per batch,
 * so a batch of doomed tasks does not flood the log.
 */
export function logDeadLetters(
  logger: Logger,
  claimed: readonly ClaimedTask[],
  failures: readonly TaskFailure[],
  outcomes: readonly FailOutcome[],
): void {
  const dead = new Set(outcomes.filter((o) => o.outcome === "dead").map((o) => o.id));
  if (dead.size === 0) return;
  const keyOf = new Map(claimed.map((t) => [t.id, t.key]));
  const tasks = failures
    .filter((f) => dead.has(f.id))
    .slice(0, namedPerLine)
    .map((f) => ({ id: f.id, key: keyOf.get(f.id), error: f.error }));
  logger.warn({ dead: dead.size, tasks }, "tasks dead-lettered; `prescient dlq list` shows them");
}
