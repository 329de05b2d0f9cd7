/**
 * How the queue orders and reschedules tasks. RedisTaskQueue's Lua scripts
 * mirror these two formulas (see redis-scripts/includes/lib.lua); keep them in step.
 */

/**
 * Width of one priority band of ready-set scores. A score is
 * `(10 - priority) * band + seq`, where seq is the queue's enqueue counter:
 * the lowest score is claimed first, so priority 10 comes first and, within a
 * priority, the oldest task. 10 bands of 2^49 stay below 2^53, so every score
 * is an exact integer in a double (a Redis sorted-set score), and seq has
 * room for 5.6e14 enqueues.
 */
export const priorityBand = 2 ** 49;

export function readyScore(priority: number, seq: number): number {
  return (10 - priority) * priorityBand + seq;
}

/**
 * Retry delay after `attempts` attempts: exponential from `baseMs`, capped at
 * `maxMs`, with "equal jitter" (a uniform draw over the upper half) so that a
 * batch that failed together does not come back together, yet never sooner
 * than half the nominal delay.
 */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number, jitter: number): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.floor(nominal / 2 + (jitter * nominal) / 2);
}
