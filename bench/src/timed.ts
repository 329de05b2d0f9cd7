/**
 * Runs `work`, logging how far it got (`label: done / total`) once a second
 * while it runs, and answers the seconds it took. The benches' timed phases
 * share it; each prints its own rate line after.
 */
export async function timed(
  log: (line: string) => void,
  label: string,
  total: number,
  done: () => number,
  work: () => Promise<void>,
): Promise<number> {
  const start = performance.now();
  const ticker = setInterval(() => log(`  ${label}: ${done()} / ${total}`), 1_000);
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  return (performance.now() - start) / 1000;
}
