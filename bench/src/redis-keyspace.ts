import { Redis } from "ioredis";

/**
 * Sizes a fresh redis-server's key table ahead of a run that compares paths
 * by their Redis CPU, so that the table does not double inside a timed phase.
 *
 * Redis keeps its keys in one hash table that doubles when it is full and
 * then moves every key into the new one (incremental rehashing: each command
 * that touches the table moves a few buckets). That work lands on whichever
 * path is running at the time, and with a million keys it is tens of
 * microseconds per event of the phase it falls in: measured on the
 * precomputer bench, two doublings fell on the same path, and its
 * redis-server CPU per event read 15-20 us above a path sending the same
 * commands. Padding the table with `2^k + 1` keys, where `2^k` is above
 * what the run adds, makes it double once, here, to `2^(k+1)` buckets, after
 * which the run fits without another doubling.
 *
 * Answers the number of padding keys written (under `prefix`, which nothing
 * in the run reads). About 70 bytes of Redis memory each.
 */
export async function padKeyspace(url: string, runKeys: number, prefix = "bench:pad:"): Promise<number> {
  if (!Number.isSafeInteger(runKeys) || runKeys < 0) throw new Error("runKeys must be a whole number");
  let power = 1;
  while (power <= runKeys) power *= 2;
  const pad = power + 1;
  const redis = new Redis(url);
  try {
    const perCommand = 1_000;
    for (let first = 0; first < pad; first += 100 * perCommand) {
      const pipeline = redis.pipeline();
      for (let i = first; i < Math.min(pad, first + 100 * perCommand); i += perCommand) {
        const args: string[] = [];
        for (let k = i; k < Math.min(pad, i + perCommand); k++) args.push(`${prefix}${k}`, "");
        pipeline.mset(...args);
      }
      const replies = await pipeline.exec();
      const failed = replies?.find(([error]) => error !== null);
      if (failed) throw failed[0];
    }
    return pad;
  } finally {
    await redis.quit();
  }
}
