import { Redis } from "ioredis";

/**
 * Sizes a fresh redis-server's key tables ahead of a run that is costed by
 * its Redis CPU, so that they do not double inside a timed phase.
 *
 * Redis keeps its keys in one hash table, and the keys with an expiry in a
 * second one, each doubling when it is full and then moving every key into
 * the new table (incremental rehashing: each command that touches the table
 * moves a few buckets). That work lands on whichever path is running at the
 * time, and with a million keys it is tens of microseconds per event of the
 * phase it falls in: measured on the precomputer bench, two doublings fell
 * on the same path, and its redis-server CPU per event read 15-20 us above a
 * path sending the same commands. A run that starts from an empty Redis also
 * pays every doubling up to its size, which a deployment in its steady state
 * does not. Padding both tables with `2^k + 1` keys that expire, where `2^k`
 * is above what the run adds, makes each double once, here, to `2^(k+1)`
 * buckets, after which the run fits without another doubling.
 *
 * Answers the number of padding keys written (under `prefix`, which nothing
 * in the run reads; they expire after a day). About 100 bytes of Redis
 * memory each.
 */
export async function padKeyspace(url: string, runKeys: number, prefix = "bench:pad:"): Promise<number> {
  if (!Number.isSafeInteger(runKeys) || runKeys < 0) throw new Error("runKeys must be a whole number");
  let power = 1;
  while (power <= runKeys) power *= 2;
  const pad = power + 1;
  const redis = new Redis(url);
  try {
    // In slices of one script call each: a call per key would take a minute at this size.
    const slice = 50_000;
    for (let first = 0; first < pad; first += slice)
      await redis.eval(
        "for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do redis.call('SET', ARGV[1] .. i, '', 'PX', ARGV[4]) end",
        0,
        prefix,
        first,
        Math.min(pad, first + slice) - 1,
        86_400_000,
      );
    return pad;
  } finally {
    await redis.quit();
  }
}
