/**
 * Compute times in logarithmic buckets (ratio 2^{1/4}, so a quantile is
 * off by at most about 9%), from 10 µs to about 20 minutes. Buckets are plain
 * additive counters, so a store keeps them with HINCRBYFLOAT and forward
 * decay applies to them like to any other count.
 */
const minMs = 0.01;
const ratio = 2 ** 0.25;
export const computeBucketCount = 108;

export function computeBucket(ms: number): number {
  if (!(ms > minMs)) return 0;
  const i = Math.floor(Math.log(ms / minMs) / Math.log(ratio)) + 1;
  return Math.min(computeBucketCount - 1, i);
}

/** A representative value of bucket i: its geometric midpoint. */
export function bucketValue(i: number): number {
  if (i <= 0) return minMs;
  return minMs * ratio ** (i - 0.5);
}

/** The q-quantile (0..1) of a weighted bucket histogram; 0 when it is empty. */
export function histogramQuantile(buckets: ReadonlyMap<number, number>, q: number): number {
  let total = 0;
  for (const w of buckets.values()) total += w;
  if (!(total > 0)) return 0;
  const target = q * total;
  let seen = 0;
  for (const i of [...buckets.keys()].sort((a, b) => a - b)) {
    seen += buckets.get(i) ?? 0;
    if (seen >= target) return bucketValue(i);
  }
  return bucketValue(Math.max(...buckets.keys()));
}
