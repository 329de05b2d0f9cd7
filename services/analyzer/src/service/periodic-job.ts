/**
 * Runs `job` every `ms` (not at all for 0 or less), on an unref'd timer,
 * and never twice at once: a run still going when the next is due is not
 * joined by another, so a slow store never piles saves or clean-ups up
 * behind each other. A failed run is handed to `failed`; the next runs on.
 */
export function periodicJob(
  ms: number,
  job: () => Promise<unknown>,
  failed: (error: unknown) => void,
): NodeJS.Timeout | undefined {
  if (ms <= 0) return undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    job()
      .catch(failed)
      .finally(() => {
        running = false;
      });
  }, ms);
  timer.unref();
  return timer;
}
